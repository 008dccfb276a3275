"""``/healthz`` reports every inbox shard's pipeline loop (issue 9, defect 3), from the workers' heartbeats."""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core import keys
from kefu.ops.stack import free_port
from kefu.pipeline import heartbeat
from tests.helpers.gateway import running_gateway
from tests.helpers.pipeline_rig import eventually


def _settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                    identity_secret=secrets.token_hex(16), port=free_port(), actions_port=free_port(), shards=4)


async def _health(base_url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/healthz") as response:
        return response.status, await response.json()


async def test_shards_without_a_live_pipeline_loop_are_reported_dead(redis_url: str) -> None:
    async with running_gateway(_settings(redis_url), run_pipeline=False) as base_url:
        status, body = await _health(base_url)
    assert status == 503 and body["checks"]["pipeline"] is False
    assert body["pipeline"]["dead"] == [0, 1, 2, 3] and body["pipeline"]["alive"] == 0


async def test_every_shard_served_is_reported_alive_with_its_worker(redis_url: str) -> None:
    async with running_gateway(_settings(redis_url), run_pipeline=True) as base_url:
        async def pipeline_alive() -> dict[str, Any] | None:
            _, body = await _health(base_url)
            return body if body["checks"]["pipeline"] else None
        body = await eventually(pipeline_alive, timeout=30, what="every shard's heartbeat")
    assert body["pipeline"]["alive"] == 4 and body["pipeline"]["dead"] == []
    (shards,) = body["pipeline"]["workers"].values()
    assert sorted(shards) == [0, 1, 2, 3]


async def test_a_heartbeat_lapses_on_its_own(redis_client: aioredis.Redis) -> None:
    await heartbeat.beat(redis_client, 2, "worker-a")
    assert 0 < await redis_client.ttl(keys.shard_heartbeat(2)) <= heartbeat.TTL_S
    summary = await heartbeat.summary(redis_client, 3)
    assert summary["dead"] == [0, 1] and summary["workers"] == {"worker-a": [2]}
    assert dataclasses.asdict((await heartbeat.read(redis_client, 3))[2])["owner"] == "worker-a"
