"""Bringing feeds in: fetching, scheduling, leases, the ingest pipeline and per-source health.

Adapters in ``feeds/`` only translate bytes; everything else every source shares lives here.
"""
