"""Record validation: precise, readable errors for bad records."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from tests.factories import T0, event, poi, section
from travel.core.geometry import Geometry
from travel.core.records import Kind, RoadEvent, record_from_json


def error_text(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value)


@pytest.mark.parametrize(("coords", "message"), [
    ([200.0, 34.0], "longitude 200.0 is outside"),
    ([113.0, -91.0], "latitude -91.0 is outside"),
    ([math.nan, 34.0], "not finite"),
    ([113.0], "expected \\[lon, lat\\]"),
])
def test_bad_point_coordinates(coords: list[float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Geometry(type="Point", coordinates=coords)


def test_self_intersecting_polygon_is_refused() -> None:
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    with pytest.raises(ValidationError, match="Self-intersection"):
        Geometry(type="Polygon", coordinates=bowtie)


def test_degenerate_line_is_refused() -> None:
    with pytest.raises(ValidationError, match="degenerate|malformed"):
        Geometry(type="LineString", coordinates=[[113.0, 34.0], [113.0, 34.0]])


def test_id_must_match_source_and_source_id() -> None:
    with pytest.raises(ValidationError, match="must be 'gsj:1'"):
        RoadEvent(**{**event("1").model_dump(), "id": "other:1"})


def test_times_must_carry_a_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        RoadEvent(**{**event("1").model_dump(), "updated_at": T0.replace(tzinfo=None)})


def test_unknown_fields_and_enum_values_are_named() -> None:
    with pytest.raises(ValidationError) as exc:
        RoadEvent(**{**event("1").model_dump(), "colour": "red", "type": "meteor"})
    text = error_text(exc)
    assert "colour" in text and "Extra inputs are not permitted" in text
    assert "type" in text and "'closure'" in text


def test_end_before_start_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected_end is before start_time"):
        event("1", start_time=T0, expected_end=T0.replace(hour=7))


def test_geometry_type_is_checked_per_kind() -> None:
    with pytest.raises(ValidationError, match="poi geometry must be one of Point"):
        poi("x", 113.0, 34.0, geometry=Geometry(type="LineString", coordinates=[[113, 34], [114, 35]]))
    with pytest.raises(ValidationError, match="geometry\n  Input should be a valid dictionary"):
        poi("x", 113.0, 34.0, geometry=None)


def test_road_code_pattern() -> None:
    with pytest.raises(ValidationError, match="road"):
        section("s", [(113, 34), (114, 35)], road="Route 66")


def test_json_round_trip() -> None:
    original = event("1")
    assert record_from_json(Kind.EVENT, original.model_dump_json()) == original


def test_nul_characters_are_refused() -> None:
    with pytest.raises(ValidationError, match="NUL character"):
        event("1", description="封闭\x00")
    with pytest.raises(ValidationError, match="NUL character"):
        poi("x", 113.0, 34.0, roads=["G4", "S1\x00"])
