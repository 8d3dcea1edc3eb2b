"""Signed pushes: HMAC-SHA256 over ``timestamp + "." + body`` with the source's secret.

The timestamp (Unix seconds, ``X-Timestamp``) is inside the signature, so a captured request cannot
be re-sent later with a fresh one; within the window a signature is accepted once, so it cannot be
re-sent at all. The scheme is the one Stripe and GitHub webhooks use, so agencies' tooling has it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from contextlib import suppress

import redis.asyncio as aioredis

from travel.core.errors import Conflict, Unauthorized

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
REPLAY_WINDOW_S = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Signature`` value for a body sent at ``timestamp``."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """Both headers for pushing ``body`` now (for agencies' clients, the simulator and tests)."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    """Unauthorized unless the signature is the secret's over this body at a time inside the window."""
    if not timestamp or not signature:
        raise Unauthorized(f"a push needs the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be Unix seconds, not {timestamp[:40]!r}") from None
    if abs(now - sent) > REPLAY_WINDOW_S:
        raise Unauthorized(f"{TIMESTAMP_HEADER} is {abs(now - sent):.0f} s from the server's clock; "
                           f"the window is {REPLAY_WINDOW_S} s")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise Unauthorized("the signature does not match the body and the source's secret")


class ReplayGuard:
    """Remembers signatures seen within the window (in Redis when configured, so across processes)."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._seen: dict[str, float] = {}
        self._redis = aioredis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=5) if redis_url else None

    async def close(self) -> None:
        """Close the Redis client."""
        if self._redis is not None:
            await self._redis.aclose()

    async def first_time(self, source: str, signature: str, now: float) -> None:
        """Conflict when this signature was already accepted for ``source``."""
        key = f"travel:push-seen:{source}:{signature}"
        if self._redis is not None:
            try:
                fresh = await self._redis.set(key, b"1", nx=True, ex=2 * REPLAY_WINDOW_S)
            except (OSError, aioredis.RedisError):
                fresh = self._remember(key, now)  # degrade to this process's memory
        else:
            fresh = self._remember(key, now)
        if not fresh:
            raise Conflict("this push was already received (same signature); replays are refused")

    async def forget(self, source: str, signature: str) -> None:
        """Let a push that was not taken (e.g. the store was down) be sent again."""
        key = f"travel:push-seen:{source}:{signature}"
        self._seen.pop(key, None)
        if self._redis is not None:
            with suppress(OSError, aioredis.RedisError):  # else it expires with the window
                await self._redis.delete(key)

    def _remember(self, key: str, now: float) -> bool:
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t <= 2 * REPLAY_WINDOW_S}
        if key in self._seen and now - self._seen[key] <= 2 * REPLAY_WINDOW_S:
            return False
        self._seen[key] = now
        return True
