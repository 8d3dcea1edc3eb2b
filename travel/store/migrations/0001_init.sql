-- Current records, their version history, and the commit clock that stamps ingested_at.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE records (
    kind        text NOT NULL,
    id          text COLLATE "C" NOT NULL,   -- byte order, so "ordered by id" matches Python's sort
    version     bigint NOT NULL,
    source      text NOT NULL,
    road        text,
    active      boolean NOT NULL,
    ingested_at timestamptz NOT NULL,
    geom        geometry(Geometry, 4326),
    body        jsonb NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Spatial indexes, one GiST on geom per kind: a query always names its kind, so POIs are never searched
-- through a million road sections, yet each row enters only one index (a (kind, geom) GiST via
-- btree_gist costs bulk imports three times as much). The store plans every query with its values
-- (plan_cache_mode = force_custom_plan), so the planner sees the kind and picks its index. Metric
-- queries cast to geography for exact distances but find their candidates here through a degree box
-- that surely holds the search radius; a GiST on geom::geography would serve them no better.
-- A new Kind needs a migration adding its index (tests/test_postgis_store.py checks).
CREATE INDEX records_road_section_geom_gist ON records USING gist (geom) WHERE kind = 'road_section';
CREATE INDEX records_event_geom_gist ON records USING gist (geom) WHERE kind = 'event';
CREATE INDEX records_poi_geom_gist ON records USING gist (geom) WHERE kind = 'poi';
CREATE INDEX records_toll_section_geom_gist ON records USING gist (geom) WHERE kind = 'toll_section';
CREATE INDEX records_toll_rate_geom_gist ON records USING gist (geom) WHERE kind = 'toll_rate';
CREATE INDEX records_gauge_geom_gist ON records USING gist (geom) WHERE kind = 'gauge';
CREATE INDEX records_reading_geom_gist ON records USING gist (geom) WHERE kind = 'reading';
CREATE INDEX records_waterway_geom_gist ON records USING gist (geom) WHERE kind = 'waterway';
CREATE INDEX records_alert_geom_gist ON records USING gist (geom) WHERE kind = 'alert';
CREATE INDEX records_admin_area_geom_gist ON records USING gist (geom) WHERE kind = 'admin_area';
CREATE INDEX records_subscription_geom_gist ON records USING gist (geom) WHERE kind = 'subscription';

CREATE INDEX records_kind_ingested_at ON records (kind, ingested_at);
CREATE INDEX records_kind_road ON records (kind, road);
CREATE INDEX records_kind_source ON records (kind, source);

CREATE TABLE record_history (
    kind        text NOT NULL,
    id          text COLLATE "C" NOT NULL,
    version     bigint NOT NULL,
    ingested_at timestamptz NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (kind, id, version)
);

-- One row: the last ingested_at handed out. Writers lock it first, so stamps are strictly increasing
-- and commits happen in stamp order across every process sharing the database.
CREATE TABLE ingest_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_at   timestamptz NOT NULL
);
INSERT INTO ingest_clock (last_at) VALUES ('-infinity');
