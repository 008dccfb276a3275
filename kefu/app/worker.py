"""``python -m kefu worker``: the pipeline without a listening socket.

A worker is the gateway app minus HTTP: the same clients, channels (to send replies) and handoff manager, plus
the pipeline, which takes shard leases in Redis, so any number of workers share the inbox. ``python -m kefu run``
starts ``KEFU_PIPELINE_WORKERS`` of them (kefu/ops/processes.py); this command runs one more, e.g. on another machine.
"""
from __future__ import annotations

import logging

from aiohttp import web

from kefu.app import eventloop
from kefu.app.gateway import create_app
from kefu.app.server import until_stopped
from kefu.config.settings import Settings

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
