"""What a GeoJSON feature of each record kind holds, declared once for ``api.geojson`` and the OpenAPI document.

A feature's properties are its record's fields (minus the geometry, which is the feature's own) plus
``Derived``. Both halves are declared once, the record's fields by the record model and the derived
ones below, and the declarations here are composed from them: TypedDicts that forbid unknown keys, so
the documented schema is exact. ``api.geojson`` builds the features as bytes (cached per record
version and joined whole: no per-request work), which tests validate against these declarations.
Every time among the properties is written with the offset of the service's zone (``TRAVEL_ZONE``).
"""

from functools import cache
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, with_config
from typing_extensions import TypedDict

from travel.core.answers import EXACT
from travel.core.records import Kind, Record


@with_config(EXACT)
class Derived(TypedDict):
    """Properties a feature adds to its record's fields, for people and for clients that parse no stakes."""

    kind: Kind
    active: Annotated[bool, Field(description="in force now (events and alerts end; reference data does not)")]
    stake_range: NotRequired[Annotated[str, Field(description="K650+200 or K650+200–K652+000")]]
    stake: NotRequired[Annotated[str, Field(description="K650+200")]]


STAKE_SOURCES = {"stake_range": "start_stake_m", "stake": "stake_m"}  # derived from these fields, when set
Distance = NotRequired[Annotated[float, Field(description="metres from the point of a `near` query")]]


@with_config(EXACT)
class ListMeta(TypedDict):
    """A list's foreign members: how many features, how limited, and how fresh their sources are."""

    count: Annotated[int, Field(description="features returned")]
    limit: Annotated[int, Field(description="the most that were asked for")]
    stale_sources: NotRequired[Annotated[dict[str, float], Field(
        description="age in seconds of the last good data of each stale source the features come from")]]


def _typed_dict(name: str, items: dict[str, Any], doc: str) -> Any:
    """An exact TypedDict named ``name`` (one per name: the OpenAPI document keys its schemas by it)."""
    declared = TypedDict(name, items)  # type: ignore[misc] # the items are only known per record type
    declared.__doc__ = doc
    return with_config(EXACT)(declared)


def _fields(record: type[Record]) -> dict[str, Any]:
    """The record's fields but its geometry, each with its constraints and description."""
    return {name: Annotated[info.rebuild_annotation(), Field(description=info.description)]
            for name, info in record.model_fields.items() if name != "geometry"}


def _derived(record: type[Record]) -> dict[str, Any]:
    """``Derived``'s items that ``record`` can have: its kind, and the stakes of the fields it has."""
    items = dict(Derived.__annotations__, kind=Literal[record.kind])
    return {name: kind for name, kind in items.items()
            if name not in STAKE_SOURCES or STAKE_SOURCES[name] in record.model_fields}


def _feature(name: str, record: type[Record], properties: Any) -> Any:
    return _typed_dict(name, {
        "type": Literal["Feature"],
        "id": str,
        "geometry": record.model_fields["geometry"].rebuild_annotation(),
        "properties": properties,
    }, f"GeoJSON Feature of a {record.__name__} (geometry in the requested crs; WGS84 in the stream).")


@cache
def properties_of(record: type[Record]) -> Any:
    """A feature's properties: the record's fields (minus geometry) and the derived ones."""
    name = record.__name__
    return _typed_dict(f"{name}Properties", _fields(record) | _derived(record),
                       f"The {name}'s fields (minus geometry) and derived kind, active and stakes (K650+200).")


@cache
def feature_of(record: type[Record]) -> Any:
    """A feature of ``record``, as the change stream sends it."""
    return _feature(f"{record.__name__}Feature", record, properties_of(record))


@cache
def listed_feature_of(record: type[Record]) -> Any:
    """A feature of ``record`` in a list, with its distance when the list was asked for what is `near`."""
    name = record.__name__
    properties = _typed_dict(f"{name}ListedProperties", _fields(record) | _derived(record) | {"distance_m": Distance},
                             f"A listed {name}'s properties: its own, and `distance_m` for `near` queries.")
    return _feature(f"{name}ListedFeature", record, properties)


@cache
def collection_of(record: type[Record]) -> Any:
    """A list's answer: a FeatureCollection with foreign members saying how many, how limited, how fresh."""
    name = record.__name__
    return _typed_dict(f"{name}Collection", {
        "type": Literal["FeatureCollection"], **ListMeta.__annotations__, "features": list[listed_feature_of(record)],
    }, f"GeoJSON FeatureCollection of {name} features.")


@cache
def with_history_of(record: type[Record]) -> Any:
    """One record's current version as a feature, with every version it has had under ``history``."""
    name = record.__name__
    version = _typed_dict(f"{name}Version", _fields(record), f"One version of a {name} (minus geometry).")
    history = Annotated[list[version], Field(description="every version, oldest first")]
    properties = _typed_dict(f"{name}HistoryProperties", _fields(record) | _derived(record) | {"history": history},
                             f"A {name}'s properties and its version history.")
    return _feature(f"{name}WithHistory", record, properties)
