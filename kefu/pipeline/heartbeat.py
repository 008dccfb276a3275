"""Shard heartbeats: each worker says, per shard it serves, that its loop is alive; ``/healthz`` reads them.

A heartbeat is a key with a short TTL, written by the shard's own loop (between reads, and while it waits out
an outage), so a loop that died or hangs stops beating and its shard shows as dead within ``TTL_S``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys

TTL_S = 10
# A loop beats at most this often (it reads the inbox in blocks of 2 s).
EVERY_S = 2.0


@dataclass(frozen=True)
class ShardBeat:
    shard: int
    owner: str
    state: str
    at: float


async def beat(redis: aioredis.Redis, shard: int, owner: str, state: str = "serving") -> None:
    payload = json.dumps({"owner": owner, "state": state, "at": time.time()})
    await redis.set(keys.shard_heartbeat(shard), payload, ex=TTL_S)


async def read(redis: aioredis.Redis, shards: int) -> dict[int, ShardBeat | None]:
    """Every shard's latest heartbeat, None for a shard no loop is serving."""
    raw = await redis.mget([keys.shard_heartbeat(shard) for shard in range(shards)])
    beats: dict[int, ShardBeat | None] = {}
    for shard, value in enumerate(raw):
        try:
            data = json.loads(value) if value else None
        except ValueError:
            data = None
        beats[shard] = ShardBeat(shard, str(data.get("owner", "")), str(data.get("state", "")),
                                 float(data.get("at", 0))) if isinstance(data, dict) else None
    return beats


async def summary(redis: aioredis.Redis, shards: int) -> dict[str, object]:
    """What ``/healthz`` reports: how many shards are alive, which are not, and which worker serves which."""
    beats = await read(redis, shards)
    workers: dict[str, list[int]] = {}
    for shard, found in beats.items():
        if found is not None:
            workers.setdefault(found.owner, []).append(shard)
    dead = [shard for shard, found in beats.items() if found is None]
    waiting = sorted(shard for shard, found in beats.items() if found is not None and found.state != "serving")
    return {"shards": shards, "alive": shards - len(dead), "dead": dead, "waiting": waiting, "workers": workers}
