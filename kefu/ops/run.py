"""``python -m kefu run``: the whole stack on this machine (Redis, Rasa, the action server, the gateways and the
pipeline workers), until Ctrl-C."""
from __future__ import annotations

import logging

from kefu.app import eventloop
from kefu.app.server import serving_gateway
from kefu.config.settings import Settings
from kefu.ops.processes import running_processes
from kefu.ops.runtime import running_stack, settings_from_env

log = logging.getLogger(__name__)


async def serve() -> None:
    settings = settings_from_env()
    async with running_stack(settings), serving_gateway(settings), running_processes(settings):
        log.info("Kefu is up at %s (%s)", settings.public_origin, _what_is_served(settings))
        print(f"\n  Kefu is running: {settings.public_origin}/   (Ctrl-C to stop)\n", flush=True)
        await eventloop.until_stopped()


def _what_is_served(settings: Settings) -> str:
    """Why ``/`` may be a 404: the demo page is only served in demo mode."""
    if settings.demo:
        return "demo shop with the chat widget at /"
    return "not in demo mode (KEFU_DEMO): no demo page, no demo orders; agents' console at /console"
