SELECT 1; UPDATE prices SET price = 1;
WITH d AS (DELETE FROM prices RETURNING *) SELECT 1;
CREATE FUNCTION f() RETURNS void AS $$ INSERT INTO prices VALUES ('A','B','2016-01-01',1); $$ LANGUAGE sql;
INSERT INTO regions VALUES (E'x\'; y', $t$z$t$, NULL);
/* a /* nested */ ; */
