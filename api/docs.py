"""OpenAPI 3.1 generated from the route table and the declarations of its answers, and Swagger UI to browse it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from pydantic import TypeAdapter

import travel
from api.endpoint import EVENT_STREAM, Endpoint
from api.problems import Problem

REF = "#/components/schemas/{model}"
PROBLEM = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
DESCRIPTIONS = {200: "OK", 202: "Accepted", 304: "Not modified (If-None-Match matched the ETag)", 503: "Unavailable"}
Schemas = dict[Any, dict[str, Any]]


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


def _schemas(endpoints: tuple[Endpoint, ...]) -> tuple[Schemas, dict[str, Any]]:
    """Each answer's schema (a reference) and every named schema, generated from the declarations."""
    answers = list(dict.fromkeys([*(ep.answer for ep in endpoints if ep.answer is not None), Problem]))
    queries = list(dict.fromkeys(ep.query for ep in endpoints if ep.query is not None))
    inputs = [(a, "serialization", TypeAdapter(a)) for a in answers]
    inputs += [(q, "validation", TypeAdapter(q)) for q in queries]
    refs, top = TypeAdapter.json_schemas(inputs, ref_template=REF)
    return {a: refs[(a, "serialization")] for a in answers}, dict(top.get("$defs", {}))


def _responses(ep: Endpoint, answers: Schemas) -> dict[str, Any]:
    """The declared answer for each of its statuses, 304 where it revalidates, and a problem for each error."""
    responses: dict[str, Any] = {}
    for status in ep.statuses:
        response: dict[str, Any] = {"description": DESCRIPTIONS[status]}
        if ep.media == EVENT_STREAM:
            # Each event's data is JSON of the declared shape; the stream itself is text.
            response["content"] = {EVENT_STREAM: {"schema": {"type": "string"}, "x-event-data": answers[ep.answer]}}
        elif ep.answer is not None and ep.media is not None:
            response["content"] = {ep.media: {"schema": answers[ep.answer]}}
        responses[str(status)] = response
    if ep.revalidated:
        responses["304"] = {"description": DESCRIPTIONS[304]}
    for status in ep.errors:
        responses[str(status)] = {"description": "Problem", "content": PROBLEM}
    return responses


def build_openapi(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``endpoints``."""
    answers, schemas = _schemas(endpoints)
    query_schemas = {q.__name__: schemas.pop(q.__name__) for q in {ep.query for ep in endpoints} if q is not None}
    paths: dict[str, Any] = {}
    for ep in endpoints:
        operation = {"summary": ep.summary, "tags": [ep.tag], "parameters": _parameters(ep, query_schemas),
                     "responses": _responses(ep, answers), "operationId": f"{ep.method.lower()}_{ep.handler.__name__}"}
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
