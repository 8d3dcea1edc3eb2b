-- Kinds added with tolls: rule sets and toll-free notices. They carry no geometry today, but every
-- kind gets its partial GiST so a future notice area (e.g. a regional exemption) is indexed too.
CREATE INDEX records_toll_rules_geom_gist ON records USING gist (geom) WHERE kind = 'toll_rules';
CREATE INDEX records_toll_notice_geom_gist ON records USING gist (geom) WHERE kind = 'toll_notice';
