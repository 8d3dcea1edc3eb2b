"""Bringing data in: sources, polls, pushes, the ingest pipeline and the importers.

Fetching and scheduling polls, leases, the pipeline (parse, link, lifecycle, commit), push signing,
per-source health, and the importers of reference data and OSM. Adapters in ``feeds/`` and
``geodata/`` only translate bytes; everything else every source shares lives here.
"""
