"""One gateway process: the app listening on the shared port until SIGTERM (kefu/ops/processes.py runs several)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from kefu.app import eventloop
from kefu.app.gateway import create_app
from kefu.config.settings import Settings

log = logging.getLogger(__name__)


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
        await eventloop.until_stopped()
