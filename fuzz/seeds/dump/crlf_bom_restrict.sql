--
-- PostgreSQL database dump
--
\restrict k
COPY public.regions (slug, name, parent_slug) FROM stdin;
r	R	\N
\.
-- PostgreSQL database dump complete
\unrestrict k
