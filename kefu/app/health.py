"""``/healthz``: is every part the bot needs answering (Redis, Rasa with a model, the action server, a pipeline
loop on every inbox shard)?"""
from __future__ import annotations

import asyncio

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from kefu.app import appkeys
from kefu.pipeline import heartbeat

CHECK_TIMEOUT = aiohttp.ClientTimeout(total=3)


async def _redis_ok(redis: aioredis.Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(redis.ping(), timeout=3))
    except (aioredis.RedisError, OSError, TimeoutError):
        return False


async def _http_ok(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url, timeout=CHECK_TIMEOUT) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _pipeline(redis: aioredis.Redis, shards: int) -> dict[str, object] | None:
    """Every shard's heartbeat (kefu/pipeline/heartbeat.py): which worker serves it, which have no live loop."""
    try:
        return await asyncio.wait_for(heartbeat.summary(redis, shards), timeout=3)
    except (aioredis.RedisError, OSError, TimeoutError):
        return None


async def healthz(request: web.Request) -> web.Response:
    services = request.app[appkeys.SERVICES]
    redis_ok, rasa_ok, actions_ok, pipeline = await asyncio.gather(
        _redis_ok(services.redis),
        services.rasa.is_ready(),
        _http_ok(services.http, f"http://127.0.0.1:{services.settings.actions_port}/health"),
        _pipeline(services.redis, services.settings.shards),
    )
    pipeline_ok = pipeline is not None and not pipeline["dead"]
    checks = {"redis": redis_ok, "rasa": rasa_ok, "actions": actions_ok, "pipeline": pipeline_ok}
    healthy = all(checks.values())
    return web.json_response({"ok": healthy, "checks": checks, "pipeline": pipeline},
                             status=200 if healthy else 503)
