"""A plain spatial query, read without pydantic, is read as pydantic reads it, or left to pydantic.

``plain_spatial`` answers for the common list query (a place and a limit); whenever it answers, the
query model accepts the same query with the same place, radius and limit, WGS84 and every filter at
its default; when the model refuses a query (with the error the client sees), ``plain_spatial``
never answers.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError, field_validator

import api.app  # noqa: F401  (imports every view, so every query model is a subclass below)
from api.params import SpatialQuery, parse_query, plain_spatial
from api.views.pois import PoisQuery
from travel.core.crs import Crs
from travel.core.errors import InvalidParameter


def _subclasses(model: type[SpatialQuery]) -> list[type[SpatialQuery]]:
    return [m for sub in model.__subclasses__() for m in (sub, *_subclasses(sub))]


# Every query model the fast path may read: one that adds a validator and forgets to say so fails below.
MODELS = tuple(m for m in _subclasses(SpatialQuery) if m.plain_readable and m.__module__.startswith("api."))

coordinates = st.one_of(
    st.floats(-200, 200).map(lambda x: f"{x:.5f}"),
    st.integers(-200, 200).map(str),
    st.sampled_from(["nan", "inf", "1e2", " 113", "113_0", "１１３", "", "-0", "34."]),
)
places = st.one_of(
    st.tuples(coordinates, coordinates).map(",".join),
    st.tuples(coordinates, coordinates, coordinates, coordinates).map(",".join),
    st.sampled_from(["113.6,34.7", "113,34,114.5,35", "114,34,113,35", "113.6", "113.6,34.7,1"]),
)
amounts = st.one_of(
    st.integers(-10, 300_000).map(str),
    st.floats(-10, 300_000, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["0", "00", "0.0", "007", "1e3", "5.", ".5", " 5", "+5", "nan", "inf", "5000", "5001",
                     "200000", "200000.000000000001", "200000.1", "１２", ""]),
)
pairs = st.one_of(
    st.tuples(st.just("near"), places), st.tuples(st.just("bbox"), places),
    st.tuples(st.just("radius_m"), amounts), st.tuples(st.just("limit"), amounts),
    st.tuples(st.sampled_from(["crs", "road", "kind", "active", "Near", ""]), st.sampled_from(["wgs84", "G4", "x"])),
)


def _request(query: list[tuple[str, str]]) -> object:
    return make_mocked_request("GET", "/v1/list?" + "&".join(f"{k}={v}" for k, v in query))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=600, deadline=None)
@given(query=st.lists(pairs, max_size=4))
def test_a_plain_reading_is_pydantics(model: type[SpatialQuery], query: list[tuple[str, str]]) -> None:
    request = _request(query)
    plain = plain_spatial(request, model)
    try:
        parsed = parse_query(request, model)
    except InvalidParameter:
        assert plain is None
        return
    if plain is None:
        return
    assert (plain.bbox, plain.near, plain.radius_m, plain.limit) == (
        parsed.bbox, parsed.near, parsed.radius_m, parsed.limit)
    assert parsed.crs is Crs.WGS84
    assert parsed.model_fields_set <= {"bbox", "near", "radius_m", "limit"}
    assert parsed == model.model_validate({k: v for k, v in query if k in parsed.model_fields_set})


@pytest.mark.parametrize("query", [
    "near=113.65432,34.75678&radius_m=10000",
    "bbox=113.1234,34.1234,113.4234,34.4234",
    "bbox=113,34,114.5,35&limit=50",
    "near=113.6,34.7",
    "",
    "limit=5000&",
])
def test_common_queries_are_read_plainly(query: str) -> None:
    request = make_mocked_request("GET", "/v1/pois?" + query)
    plain = plain_spatial(request, PoisQuery)
    parsed = parse_query(request, PoisQuery)
    assert plain is not None
    assert (plain.bbox, plain.near, plain.radius_m, plain.limit) == (
        parsed.bbox, parsed.near, parsed.radius_m, parsed.limit)


@pytest.mark.parametrize("query", [
    "near=113.6,34.7&near=113.6,34.7",  # given twice: pydantic's error
    "radius_m=5",  # without near
    "near=113.6,34.7&bbox=113,34,114,35",
    "near=113.6,34.7&radius_m=1e3",  # a form left to pydantic
    "near=113.6,34.7&radius_m=0",
    "limit=0",
    "limit=5001",
    "near=113.6,%2034.7",  # escaped
    "bbox=114,34,113,35",
    "kind=service_area",  # a filter
    "crs=wgs84",
])
def test_anything_else_is_left_to_pydantic(query: str) -> None:
    assert plain_spatial(make_mocked_request("GET", "/v1/pois?" + query), PoisQuery) is None


def test_the_models_defaults_fill_what_is_not_given() -> None:
    plain = plain_spatial(make_mocked_request("GET", "/v1/pois?near=113.6,34.7"), PoisQuery)
    defaults = PoisQuery.model_validate({"near": "113.6,34.7"})
    assert plain is not None
    assert (plain.radius_m, plain.limit) == (defaults.radius_m, defaults.limit)
    with pytest.raises(ValidationError):
        PoisQuery.model_validate({"radius_m": "5"})


def test_every_list_query_model_is_checked() -> None:
    assert {m.__name__ for m in MODELS} >= {"PoisQuery", "EventsQuery", "AlertsQuery"}


class _Validated(SpatialQuery):
    """A model with a validator of its own, which pydantic alone must run."""

    plain_readable: ClassVar[bool] = False

    @field_validator("limit")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("must be even")
        return value


class _Required(SpatialQuery):
    """A model with a required parameter: no plain query carries it."""

    road: str = Field(min_length=1)


@pytest.mark.parametrize("model", [_Validated, _Required], ids=lambda m: m.__name__)
def test_a_model_pydantic_must_read_is_never_read_plainly(model: type[SpatialQuery]) -> None:
    request = make_mocked_request("GET", "/v1/list?near=113.6,34.7&limit=5")
    assert plain_spatial(request, model) is None
    with pytest.raises(InvalidParameter):
        parse_query(request, model)
