"""RFC 9457 problem details: the one shape of every error the API returns."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

import orjson
from aiohttp import web
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

PROBLEM_TYPE = "application/problem+json"


@with_config(ConfigDict(extra="allow", title="Problem"))
class Problem(TypedDict):
    """RFC 9457 problem details; further members extend it (e.g. ``nearest_reachable`` of an unroutable route)."""

    type: str
    title: str
    status: int
    detail: str
    instance: NotRequired[str]
    param: NotRequired[Annotated[str, Field(description="the offending parameter, when one is to blame")]]


def problem(status: int, title: str, detail: str, *, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    """A problem+json response; ``extra`` adds extension members (e.g. ``param``)."""
    body: Problem = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})  # type: ignore[typeddict-item]
    return web.Response(
        status=status, body=orjson.dumps(body), content_type=PROBLEM_TYPE, headers=headers
    )
