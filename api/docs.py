"""OpenAPI 3.1 generated from the route table and the pydantic models, and Swagger UI to browse it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from pydantic.json_schema import models_json_schema

import travel
from api.endpoint import Endpoint

REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "param": {"type": "string", "description": "the offending parameter, when one is to blame"},
    },
    "required": ["type", "title", "status", "detail"],
}
DERIVED_PROPERTIES = (
    "Properties are the record's fields (minus geometry) plus `kind`, `active`, `stake_range` / `stake` "
    "(K650+200) and, for `near` queries, `distance_m`."
)


def _feature_schema(model_name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"GeoJSON Feature of a {model_name}. {DERIVED_PROPERTIES}",
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "string"},
            "geometry": {"anyOf": [{"$ref": REF.format(model="Geometry")}, {"type": "null"}]},
            "properties": {"$ref": REF.format(model=model_name)},
        },
        "required": ["type", "id", "geometry", "properties"],
    }


def _collection_schema(model_name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"GeoJSON FeatureCollection of {model_name} features",
        "properties": {
            "type": {"const": "FeatureCollection"},
            "count": {"type": "integer"},
            "limit": {"type": "integer"},
            "features": {"type": "array", "items": {"$ref": REF.format(model=f"{model_name}Feature")}},
        },
        "required": ["type", "features"],
    }


def _parameters(ep: Endpoint, query_schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", ep.path)
    ]
    if ep.query is not None:
        schema = query_schemas[ep.query.__name__]
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            description = prop.pop("description", None)
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if description:
                param["description"] = description
            if prop.get("type") == "array":
                param.update(style="form", explode=False)
            params.append(param)
    return params


def build_openapi(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``endpoints``."""
    records = {m for ep in endpoints for m in (ep.collection_of, ep.feature_of) if m is not None}
    bodies = {ep.json_of for ep in endpoints if ep.json_of is not None}
    queries = {ep.query for ep in endpoints if ep.query is not None}
    keyed = [(m, "serialization") for m in sorted(records, key=lambda m: m.__name__)]
    keyed += [(b, "serialization") for b in sorted(bodies, key=lambda b: b.__name__)]
    keyed += [(q, "validation") for q in sorted(queries, key=lambda q: q.__name__)]
    _, top = models_json_schema(keyed, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    query_schemas = {q.__name__: schemas.pop(q.__name__) for q in queries}
    for model in records:
        schemas[f"{model.__name__}Feature"] = _feature_schema(model.__name__)
        schemas[f"{model.__name__}Collection"] = _collection_schema(model.__name__)
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, Any] = {}
    for ep in endpoints:
        ok = str(ep.status)
        responses: dict[str, Any] = {ok: {"description": "OK"}}
        if ep.media:
            responses[ok]["content"] = {ep.media: {"schema": {"type": "string"}}}
        target = ep.collection_of and f"{ep.collection_of.__name__}Collection"
        target = target or (ep.feature_of and f"{ep.feature_of.__name__}Feature")
        if target:
            content = {"application/geo+json": {"schema": {"$ref": REF.format(model=target)}}}
            responses[ok] = {"description": "OK", "content": content}
        elif ep.json_of:
            content = {"application/json": {"schema": {"$ref": REF.format(model=ep.json_of.__name__)}}}
            responses[ok] = {"description": "Accepted" if ep.status == 202 else "OK", "content": content}
        if ep.collection_of:
            responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
        for status in ep.errors:
            problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
            responses[str(status)] = {"description": "Problem", "content": problem}
        operation = {"summary": ep.summary, "tags": [ep.tag], "parameters": _parameters(ep, query_schemas),
                     "responses": responses, "operationId": f"{ep.method.lower()}_{ep.handler.__name__}"}
        if ep.request_body:
            operation["requestBody"] = {"required": True, "description": ep.request_body, "content": {
                "*/*": {"schema": {"type": "string", "format": "binary"}}}}
        paths.setdefault(ep.path, {})[ep.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "travel", "version": travel.__version__,
                 "description": "Henan road and waterway travel information (出行服务)"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def openapi_json(endpoints: tuple[Endpoint, ...]) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /openapi.json: the document for ``endpoints``, built once at the first request."""

    @cache
    def spec() -> bytes:
        return orjson.dumps(build_openapi(endpoints))

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(body=spec(), content_type="application/json")

    return openapi_json


DOCS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>travel API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"""


async def docs_page(request: web.Request) -> web.Response:
    """GET /docs — Swagger UI, served from bundled files (no CDN)."""
    return web.Response(text=DOCS_HTML, content_type="text/html")


def docs_static_dir() -> Path:
    """Swagger UI's dist files, vendored with their licence (``static/swagger-ui/README.md`` names the release)."""
    return Path(__file__).with_name("static") / "swagger-ui"


def docs_static(directory: Path) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """GET /docs/static/{name}: Swagger UI's files in ``directory`` (listed once; nothing else is served)."""
    files = {p.name: p for p in directory.iterdir() if p.is_file()}

    async def serve(request: web.Request) -> web.FileResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    return serve
