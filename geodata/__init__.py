"""Bundled Henan reference data (road network, POIs, toll sections, waterways, gauges, admin areas).

The files in this package are the interchange format documented in ``README.md``;
:mod:`geodata.loader` turns them (or a department's export in the same format) into records.
"""

from __future__ import annotations

from pathlib import Path

BUNDLE_DIR: Path = Path(__file__).resolve().parent
"""The directory holding the bundled data files and ``bundle.json``."""

__all__ = ["BUNDLE_DIR"]
