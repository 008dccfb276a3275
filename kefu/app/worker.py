"""``python -m kefu worker``: the pipeline without a listening socket.

A worker opens the same services as a gateway (stores, the channels' senders to send replies, the handoff
manager) and runs the pipeline, which takes shard leases in Redis, so any number of workers share the inbox.
``python -m kefu run`` starts ``KEFU_PIPELINE_WORKERS`` of them (kefu/ops/processes.py); this command runs one
more, e.g. on another machine.
"""
from __future__ import annotations

import asyncio
import logging

from kefu.app import eventloop
from kefu.app.services import Services
from kefu.config.settings import Settings
from kefu.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)


async def work(settings: Settings) -> None:
    """Run the pipeline until SIGTERM/SIGINT."""
    async with Services.build(settings).running() as services:
        task = asyncio.create_task(services.pipeline().run(), name="kefu-pipeline")
        eventloop.freeze_startup_objects()
        log.info("pipeline worker up")
        stopped = asyncio.create_task(eventloop.until_stopped(), name="kefu-until-stopped")
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():  # the pipeline keeps every shard going (kefu/pipeline/boundary.py): this is a bug
                log.critical("the pipeline stopped on its own; exiting so the supervisor starts the worker again")
                task.result()  # raises what stopped it
                raise RuntimeError("the pipeline stopped on its own")
        finally:
            stopped.cancel()
            await cancel_and_wait(task)  # a shard can lose one cancel inside redis-py (kefu/core/tasks.py)
