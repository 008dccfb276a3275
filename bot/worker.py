"""``python -m bot worker``: the pipeline without a listening socket.

A worker is the gateway app minus HTTP: the same clients, channels (to send replies) and handoff manager, plus
the pipeline, which takes shard leases in Redis, so any number of workers share the inbox. ``python -m bot run``
starts ``KEFU_PIPELINE_WORKERS`` of them (bot/processes.py); this command runs one more, e.g. on another machine.
"""
from __future__ import annotations

import logging

from aiohttp import web

from bot import eventloop
from bot.app import create_app
from bot.server import until_stopped
from bot.settings import Settings

log = logging.getLogger(__name__)


async def work(settings: Settings) -> None:
    """Run the pipeline until SIGTERM/SIGINT, then let it finish the message in hand."""
    runner = web.AppRunner(create_app(settings, run_pipeline=True))
    await runner.setup()
    eventloop.freeze_startup_objects()
    log.info("pipeline worker up")
    try:
        await until_stopped()
    finally:
        await runner.cleanup()
