INSERT INTO prices VALUES ('A', 'B', '2016-01-01', -5), ('A', 'B', date '2016-01-02', 3000000000);
DROP TABLE prices;
COPY prices FROM '/etc/passwd';
\connect x
