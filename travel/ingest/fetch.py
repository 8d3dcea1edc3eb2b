"""One poll's HTTP request: conditional GET, a time limit, a size limit, and answers that are not feeds refused."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from feeds.base import MAX_DOCUMENT_BYTES
from travel.core.records import SourceConfig

_XML_FORMATS = frozenset({"cap", "datex2"})
_HTML_STARTS = (b"<!doctype html", b"<html")


class FetchError(Exception):
    """The poll got no usable document (network, timeout, HTTP status, HTML error page, too large)."""


@dataclass(slots=True)
class Validators:
    """What the last good answer said about itself, for the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for the next request."""
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fresh document (``body``) or, when ``body`` is None, "not modified since last time"."""

    body: bytes | None
    charset: str | None
    validators: Validators


async def fetch(session: aiohttp.ClientSession, config: SourceConfig, validators: Validators) -> Fetched:
    """GET the source's URL within its time limit; FetchError says what went wrong."""
    assert config.url is not None
    headers = {**config.headers, **validators.headers()}
    try:
        async with session.get(config.url, headers=headers, timeout=aiohttp.ClientTimeout(total=config.timeout_s),
                               allow_redirects=True) as response:
            if response.status == 304:
                return Fetched(None, None, validators)
            if response.status != 200:
                raise FetchError(f"HTTP {response.status} {response.reason or ''}".strip())
            body = await _read_limited(response)
            _check_not_html(config, response.content_type, body)
            fresh = Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))
            return Fetched(body, response.charset, fresh)
    except TimeoutError as err:
        raise FetchError(f"no complete answer within {config.timeout_s:g} s") from err
    except aiohttp.ClientError as err:
        raise FetchError(f"{type(err).__name__}: {err}") from err


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    declared = response.content_length
    if declared is not None and declared > MAX_DOCUMENT_BYTES:
        raise FetchError(f"document of {declared} bytes is larger than the limit of {MAX_DOCUMENT_BYTES}")
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise FetchError(f"document larger than the limit of {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_not_html(config: SourceConfig, content_type: str, body: bytes) -> None:
    """An HTML page where a feed was expected is a portal's error or login page, not data."""
    head = body[:512].lstrip().lower()
    if content_type == "text/html" or head.startswith(_HTML_STARTS):
        expected = "XML" if config.format in _XML_FORMATS else "a feed document"
        raise FetchError(f"got an HTML page ({content_type}) instead of {expected}")
