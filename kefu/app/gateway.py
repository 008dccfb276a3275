"""The aiohttp gateway: app factory, the process's services opened and closed in one place, routes in one function.

A gateway takes messages in (the channels' receivers), serves the demo page, the widget and the console, and
sends what agents write (the services' senders). It runs the pipeline itself only when asked (no workers).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from kefu.app import appkeys
from kefu.app.health import healthz
from kefu.app.metrics import metrics_handler
from kefu.app.services import Services
from kefu.channels import factory
from kefu.config.settings import Settings
from kefu.console import state as console_state
from kefu.console.routes import setup_console
from kefu.core.tasks import cancel_and_wait
from kefu.web.pages import web_routes


def create_app(settings: Settings, *, run_pipeline: bool = True) -> web.Application:
    """Build the gateway. ``run_pipeline=False`` serves HTTP only (another process consumes the inbox)."""
    app = web.Application(client_max_size=64 * 1024)
    services = Services.build(settings)
    app[appkeys.SERVICES] = services
    app[appkeys.RECEIVERS] = factory.receivers(settings, services.redis, services.intake, services.delivery,
                                               services.customers, services.senders)
    setup_routes(app)
    setup_console(app, settings, services.redis)
    app.cleanup_ctx.append(_services)
    app.cleanup_ctx.append(_receivers)
    if run_pipeline:
        app.cleanup_ctx.append(_pipeline)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(web_routes(app[appkeys.SERVICES].settings))
    for receiver in app[appkeys.RECEIVERS].values():
        app.router.add_routes(receiver.routes())
    # The shop's signed order events (kefu/commitments/webhook.py): proactive updates to its customers.
    app.router.add_routes(app[appkeys.SERVICES].commitments.routes())
    services = app[appkeys.SERVICES]  # Prometheus (kefu/app/metrics.py): token, or loopback only
    app.router.add_get("/metrics", metrics_handler(services.redis, services.settings.shards,
                                                   services.settings.service_levels))


async def _services(app: web.Application) -> AsyncIterator[None]:
    async with app[appkeys.SERVICES].running() as services:
        app[console_state.HANDOFF] = services.handoff
        yield


async def _receivers(app: web.Application) -> AsyncIterator[None]:
    """Listeners opened after and closed before the shared services."""
    receivers = list(app[appkeys.RECEIVERS].values())
    for receiver in receivers:
        await receiver.start()
    yield
    for receiver in reversed(receivers):
        await receiver.stop()


async def _pipeline(app: web.Application) -> AsyncIterator[None]:
    pipeline = app[appkeys.SERVICES].pipeline()
    app[appkeys.PIPELINE] = pipeline
    task = asyncio.create_task(pipeline.run(), name="kefu-pipeline")
    yield
    await cancel_and_wait(task)  # a shard can lose one cancel inside redis-py (kefu/core/tasks.py)
