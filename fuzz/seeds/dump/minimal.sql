COPY regions (slug, name, parent_slug) FROM stdin;
r	R	\N
\.
COPY ports (code, name, parent_slug) FROM stdin;
AAAAA	A	r
\.
COPY prices (orig_code, dest_code, day, price) FROM stdin;
AAAAA	AAAAA	2016-01-01	5
\.
