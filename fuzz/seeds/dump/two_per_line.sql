INSERT INTO regions VALUES ('a', 'A', NULL); INSERT INTO regions VALUES ('b', 'B', 'a');
INSERT INTO regions VALUES ('c', 'C', NULL); -- comment
SET x = 1; DELETE FROM prices WHERE day = '2016-01-01';
