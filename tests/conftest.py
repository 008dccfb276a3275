"""Fixtures shared by every test: a real Redis server, and the real stack (model, Rasa, action server)."""
from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.ops.model import train
from kefu.ops.runtime import seed_demo
from kefu.ops.stack import Stack, free_port
from tests.helpers.gateway import running_gateway
from tests.helpers.redis_server import redis_server

# The `browser` fixture (Debian's Chromium) for every page test.
pytest_plugins = ["tests.helpers.browser"]


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """URL of an empty Redis database on the session's real server."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    client.close()
    return redis_server_url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def live_stack(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The real trained model in a real Rasa server, with the real action server, for the whole session."""
    settings = Settings(
        redis_url=redis_server_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_token=secrets.token_urlsafe(24),
        identity_secret=secrets.token_urlsafe(24),
        actions_port=free_port(),
        port=free_port(),
    )
    stack = Stack(settings, train(), log_dir=tmp_path_factory.mktemp("stack-logs"))
    try:
        stack.start()
        asyncio.run(stack.wait_ready())
        yield settings
    finally:
        stack.stop()


@pytest.fixture
async def stack_settings(live_stack: Settings, redis_url: str) -> Settings:
    """Settings of the live stack on an emptied Redis, demo orders loaded, and a fresh gateway port."""
    await seed_demo(redis_url)
    return dataclasses.replace(live_stack, port=free_port())


@pytest.fixture
async def gateway(stack_settings: Settings) -> AsyncIterator[str]:
    """Base URL of a real gateway (HTTP, web chat, pipeline) wired to the live stack."""
    async with running_gateway(stack_settings) as base_url:
        yield base_url
