"""Times as people read them: every instant an answer shows is written with the service's zone's offset.

Records keep whatever offset their source gave (and stores give back UTC); answers show the same
instants in the zone the service's users live in (``TRAVEL_ZONE``, Asia/Shanghai by default), all
written alike: ISO 8601 as pydantic writes a record's times, ``Z`` when the offset is zero.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TypeVar

import orjson
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def shown_json(at: datetime, zone: tzinfo) -> bytes:
    """``at`` in ``zone`` as a JSON string (quotes included), e.g. ``"2026-12-08T08:02:46+08:00"``."""
    return orjson.dumps(at.astimezone(zone), option=orjson.OPT_UTC_Z)


def shown(at: datetime, zone: tzinfo) -> str:
    """``at`` in ``zone`` as ISO 8601 text, e.g. ``2026-12-08T08:02:46+08:00``."""
    return shown_json(at, zone)[1:-1].decode()


def in_zone(model: M, zone: tzinfo) -> M:
    """``model`` with its times in ``zone``: the same instants, so it serializes with the zone's offset.

    Only the model's own fields are looked at: no record or answer model nests a time deeper.
    """
    times = {name: value.astimezone(zone) for name, value in model if isinstance(value, datetime)}
    return model.model_copy(update=times) if times else model
