"""``python -m bot run``: the whole stack on this machine, until Ctrl-C."""
from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import create_app
from bot.runtime import running_stack, settings_from_env

log = logging.getLogger(__name__)


async def serve() -> None:
    settings = settings_from_env()
    async with running_stack(settings):
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("Kefu is up: open %s/ (demo shop with the chat widget)", settings.public_origin)
        print(f"\n  Kefu is running: {settings.public_origin}/   (Ctrl-C to stop)\n", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
