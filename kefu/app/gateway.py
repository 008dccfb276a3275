"""The aiohttp gateway: app factory, shared clients opened and closed in one place, routes in one function."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from kefu.app import appkeys
from kefu.app.health import healthz
from kefu.channels.base import Channel
from kefu.channels.factory import messaging_channels
from kefu.channels.webchat.channel import WebChatChannel
from kefu.config.settings import Settings
from kefu.console.routes import setup_console
from kefu.core.conversations import ConversationStore
from kefu.core.inbox import Inbox
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.followups import watch as watch_followups
from kefu.handoff.setup import create_manager
from kefu.pipeline.pipeline import Pipeline
from kefu.web.pages import demo_page, static_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, run_pipeline: bool = True) -> web.Application:
    """Build the gateway. ``run_pipeline=False`` serves HTTP only (another process consumes the inbox)."""
    app = web.Application(client_max_size=64 * 1024)
    app[appkeys.SETTINGS] = settings
    # redis-py connects lazily, so the client can exist before the loop runs; routes need the channels now.
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=10)
    app[appkeys.REDIS] = redis
    app[appkeys.INBOX] = Inbox(redis, settings.shards)
    app[appkeys.CONVERSATIONS] = ConversationStore(redis)
    app[appkeys.CHANNELS] = build_channels(app)
    setup_routes(app)
    setup_console(app)
    app.cleanup_ctx.append(_clients)
    app.cleanup_ctx.append(_channels)
    app.cleanup_ctx.append(_handoff)
    if run_pipeline:
        app.cleanup_ctx.append(_pipeline)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", demo_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(static_routes())
    for channel in app[appkeys.CHANNELS].values():
        app.router.add_routes(channel.routes())


def build_channels(app: web.Application) -> dict[str, Channel]:
    settings = app[appkeys.SETTINGS]
    web_chat = WebChatChannel(
        redis=app[appkeys.REDIS],
        inbox=app[appkeys.INBOX],
        conversations=app[appkeys.CONVERSATIONS],
        identity_secret=settings.identity_secret,
        allowed_origins={settings.public_origin, f"http://localhost:{settings.port}", *settings.allowed_origins},
        max_message_chars=settings.max_message_chars,
    )
    extra = messaging_channels(settings, app[appkeys.REDIS], app[appkeys.INBOX], app[appkeys.CONVERSATIONS])
    return {channel.name: channel for channel in (web_chat, *extra)}


async def _clients(app: web.Application) -> AsyncIterator[None]:
    """One HTTP session and the Redis client, closed when the app stops."""
    settings = app[appkeys.SETTINGS]
    http = aiohttp.ClientSession()
    app[appkeys.HTTP] = http
    app[appkeys.RASA] = RasaClient(http, settings.rasa_url, settings.rasa_token, settings.rasa_timeout_s)
    yield
    await http.close()
    await app[appkeys.REDIS].aclose()


async def _channels(app: web.Application) -> AsyncIterator[None]:
    """Channels' own resources (API clients, listeners), opened after and closed before the shared clients."""
    channels = list(app[appkeys.CHANNELS].values())
    for channel in channels:
        await channel.start()
    yield
    for channel in reversed(channels):
        await channel.stop()


async def _handoff(app: web.Application) -> AsyncIterator[None]:
    """Human takeover: the manager, and the pipeline it delivers through (also when this process serves HTTP only)."""
    manager = create_manager(app[appkeys.SETTINGS], app[appkeys.REDIS], app[appkeys.RASA], app[appkeys.HTTP])
    app[appkeys.HANDOFF] = manager
    app[appkeys.PIPELINE] = Pipeline(app[appkeys.REDIS], app[appkeys.RASA], app[appkeys.CHANNELS],
                                     app[appkeys.SETTINGS].shards, handoff=manager)
    # Every process watches promised follow-ups; an alert is claimed in Redis, so it is raised once.
    watcher = asyncio.create_task(watch_followups(manager.followups, manager.store.publish), name="kefu-followups")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await manager.context.backend.close()


async def _pipeline(app: web.Application) -> AsyncIterator[None]:
    pipeline = app[appkeys.PIPELINE]
    task = asyncio.create_task(pipeline.run(), name="kefu-pipeline")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
