"""Bringing the whole stack up for a command: dev secrets, settings, a trained model, the processes."""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse, urlunparse

import redis.asyncio as aioredis

from kefu.config.devenv import load_dev_env
from kefu.config.settings import Settings
from kefu.ops.model import train
from kefu.ops.stack import Stack, free_port

log = logging.getLogger(__name__)


def settings_from_env() -> Settings:
    load_dev_env()
    return Settings.from_env()


EVAL_REDIS_DB = 15


def on_free_ports(settings: Settings) -> Settings:
    """The same installation on ports and a Redis database of its own (DB 15), so ``eval`` runs beside
    ``make run`` without the live gateway taking its messages."""
    redis_url = urlunparse(urlparse(settings.redis_url)._replace(path=f"/{EVAL_REDIS_DB}"))
    return dataclasses.replace(
        settings, redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}",
        actions_port=free_port(), port=free_port(),
    )


async def seed_demo(redis_url: str) -> dict:
    from kefu.orders.demo import seed_demo as seed

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return await seed(client)
    finally:
        await client.aclose()


async def empty_database(redis_url: str) -> None:
    """Empty the eval/bench database; refuses any other, so live conversations can never be wiped."""
    if urlparse(redis_url).path != f"/{EVAL_REDIS_DB}":
        raise ValueError(f"only the scratch database {EVAL_REDIS_DB} is ever emptied, not {redis_url}")
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@asynccontextmanager
async def running_stack(settings: Settings, *, seed: bool = True, scratch: bool = False) -> AsyncIterator[Stack]:
    """Redis (when needed), the action server and Rasa with an up-to-date model, ready to answer.

    ``scratch`` empties the Redis database first: for eval and benches on their own database (DB 15), so
    messages an interrupted run left queued cannot hold up or be counted in this one.
    """
    model = train()
    stack = Stack(settings, model)
    try:
        stack.start()
        if scratch:
            await empty_database(settings.redis_url)
        await stack.wait_ready()
        if seed:
            summary = await seed_demo(settings.redis_url)
            log.info("demo data loaded: %s", summary)
        yield stack
    finally:
        stack.stop()
