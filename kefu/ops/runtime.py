"""Bringing the whole stack up for a command: dev secrets, settings, a trained model, the processes."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from kefu.config.devenv import load_dev_env
from kefu.config.env import flag
from kefu.config.redis_url import redacted
from kefu.config.settings import Settings
from kefu.ops.durability import durability_problems
from kefu.ops.model import train
from kefu.ops.stack import Stack, StackError, free_port, redis_answers

log = logging.getLogger(__name__)


def settings_from_env() -> Settings:
    load_dev_env()
    return Settings.from_env()


def on_free_ports(settings: Settings) -> Settings:
    """The same installation on free ports, with a Redis server of its own (started by ``running_stack(...,
    scratch=True)``), so an eval or a bench runs beside ``make run``, or beside another eval, sharing nothing.

    In demo mode, whatever the installation's: evals and benches chat as the demo customers about the demo
    orders, and their Redis is a fresh loopback one, never a shop's.
    """
    return dataclasses.replace(
        settings, redis_url=f"redis://127.0.0.1:{free_port()}/0", rasa_url=f"http://127.0.0.1:{free_port()}",
        actions_port=free_port(), port=free_port(), demo=True,
    )


async def seed_demo(redis_url: str) -> dict:
    from kefu.orders.demo import seed_demo as seed

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return await seed(client)
    finally:
        await client.aclose()


@asynccontextmanager
async def running_stack(settings: Settings, *, scratch: bool = False, aof: bool = False) -> AsyncIterator[Stack]:
    """Redis (when needed), the action server and Rasa with an up-to-date model, ready to answer and kept
    running (a child that dies is started again: kefu/ops/stack.py); the demo
    orders loaded in demo mode only (``settings.demo``), so a configured Redis never gets them by accident.

    ``scratch`` starts a Redis server of its own, in memory only, for eval and benches (settings from
    ``on_free_ports``): nothing an interrupted run left behind, or another run, can hold up or be counted;
    with ``aof`` it keeps an append-only file and survives a kill -9 (the fault bench).
    """
    model = train()
    stack = Stack(settings, model, scratch_redis=scratch, scratch_aof=aof)
    if scratch and redis_answers(settings.redis_url):
        raise StackError(f"{redacted(settings.redis_url)} is already taken: a scratch run needs a Redis server of its own")
    try:
        stack.start()
        if not scratch:
            _refuse_unsafe_redis(settings.redis_url)
        await stack.wait_ready()
        if settings.demo:
            summary = await seed_demo(settings.redis_url)
            log.info("demo data loaded: %s", summary)
        supervisor = asyncio.create_task(stack.supervise(), name="kefu-stack-supervisor")
        try:
            yield stack
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
    finally:
        stack.stop()


def _refuse_unsafe_redis(url: str) -> None:
    """A Redis that can lose the inbox is refused, unless KEFU_ALLOW_UNSAFE_REDIS=1 (then it is said loudly)."""
    problems = durability_problems(url)
    if not problems:
        return
    if flag(os.environ, "KEFU_ALLOW_UNSAFE_REDIS", False):
        for problem in problems:
            log.error("UNSAFE REDIS (allowed by KEFU_ALLOW_UNSAFE_REDIS): %s", problem)
        return
    raise StackError("this Redis can lose customer messages: " + "; ".join(problems)
                     + " (or set KEFU_ALLOW_UNSAFE_REDIS=1 to run anyway)")
