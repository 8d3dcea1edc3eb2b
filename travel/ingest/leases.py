"""Leases that make exactly one process poll each source, however many API processes run.

A process polls a source only while it holds the source's lease, and renews it at every poll; when
it stops (or dies) the lease expires and another process takes over at its next tick. Without Redis
the service runs as one process and every lease is granted.
"""

from __future__ import annotations

import logging
import secrets
from typing import Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

# Take the lease when free, or renew it when we hold it: one atomic step.
_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Leases(Protocol):
    """Named, expiring, exclusive leases."""

    async def hold(self, name: str, ttl_s: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl_s`` seconds; False while another process holds it."""

    async def release_all(self) -> None:
        """Give back every lease this process holds (at shutdown, so another takes over at once)."""


class LocalLeases:
    """One process: every lease is ours."""

    async def hold(self, name: str, ttl_s: float) -> bool:
        """Always granted."""
        return True

    async def release_all(self) -> None:
        """Nothing to give back."""


class RedisLeases:
    """Leases as Redis keys holding a per-process token, taken with SET NX PX."""

    def __init__(self, url: str, prefix: str = "travel:lease:") -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
        self._prefix = prefix
        self._token = secrets.token_hex(8)
        self._held: set[str] = set()
        self._hold = self._redis.register_script(_HOLD)
        self._release = self._redis.register_script(_RELEASE)

    async def hold(self, name: str, ttl_s: float) -> bool:
        """Take or renew the lease.

        When Redis is unreachable, poll anyway: commits are idempotent, so a duplicate poll costs
        work, not correctness, while a missed one costs freshness.
        """
        try:
            held = bool(await self._hold(keys=[self._prefix + name], args=[self._token, int(ttl_s * 1000)]))
        except (OSError, aioredis.RedisError) as err:
            log.warning("lease check failed, polling anyway", extra={"lease": name, "error": str(err)})
            return True
        if held:
            self._held.add(name)
        else:
            self._held.discard(name)
        return held

    async def release_all(self) -> None:
        """Delete our keys, then close the client."""
        try:
            for name in self._held:
                await self._release(keys=[self._prefix + name], args=[self._token])
        except (OSError, aioredis.RedisError) as err:
            log.warning("leases not released; they will expire", extra={"error": str(err)})
        finally:
            self._held.clear()
            await self._redis.aclose()


def make_leases(redis_url: str | None) -> Leases:
    """Redis leases when Redis is configured (several processes), else local ones."""
    return RedisLeases(redis_url) if redis_url else LocalLeases()
