"""``python -m kefu run``: the whole stack on this machine, until Ctrl-C; and one gateway process."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from aiohttp import web

from kefu.app import eventloop
from kefu.app.gateway import create_app
from kefu.config.settings import Settings

log = logging.getLogger(__name__)


async def until_stopped() -> None:
    """Return on SIGINT or SIGTERM (Ctrl-C, or the parent stopping its children)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


@contextlib.asynccontextmanager
async def serving_gateway(settings: Settings) -> AsyncIterator[web.Application]:
    """A gateway listening on the shared port; it runs the pipeline itself only when there are no workers."""
    app = create_app(settings, run_pipeline=settings.pipeline_workers == 0)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.gateways > 1).start()
    eventloop.freeze_startup_objects()
    try:
        yield app
    finally:
        await runner.cleanup()


async def gateway(settings: Settings) -> None:
    async with serving_gateway(settings):
        await until_stopped()


async def serve() -> None:
    from kefu.ops.processes import running_processes
    from kefu.ops.runtime import running_stack, settings_from_env

    settings = settings_from_env()
    async with running_stack(settings), serving_gateway(settings), running_processes(settings):
        log.info("Kefu is up: open %s/ (demo shop with the chat widget)", settings.public_origin)
        print(f"\n  Kefu is running: {settings.public_origin}/   (Ctrl-C to stop)\n", flush=True)
        await until_stopped()
