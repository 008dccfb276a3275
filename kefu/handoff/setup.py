"""Building the handoff manager from the gateway's settings and clients (shared by the app and the eval)."""
from __future__ import annotations

import dataclasses
import os

import aiohttp
import redis.asyncio as aioredis

from kefu.config.orders import ActionSettings
from kefu.config.settings import Settings
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.manager import HandoffManager
from kefu.orders import OrderBackend, create_backend


def order_backend(settings: Settings, redis: aioredis.Redis) -> OrderBackend:
    """The same order backend the action server uses (KEFU_ORDER_BACKEND), on the gateway's Redis."""
    action_settings = dataclasses.replace(ActionSettings.from_env(os.environ), redis_url=settings.redis_url)
    return create_backend(action_settings, redis)


def create_manager(
    settings: Settings, redis: aioredis.Redis, rasa: RasaClient, http: aiohttp.ClientSession
) -> HandoffManager:
    return HandoffManager(redis, rasa, order_backend(settings, redis), settings.handoff, http=http)
