"""Typed application state, declared in one place."""
from __future__ import annotations

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from bot.conversations import ConversationStore
from bot.handoff.manager import HandoffManager
from bot.inbox import Inbox
from bot.pipeline import Pipeline
from bot.rasa_client import RasaClient
from bot.settings import Settings
from connectors.base import Channel

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", aioredis.Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
INBOX = web.AppKey("inbox", Inbox)
CONVERSATIONS = web.AppKey("conversations", ConversationStore)
PIPELINE = web.AppKey("pipeline", Pipeline)
CHANNELS = web.AppKey("channels", dict[str, Channel])
HANDOFF = web.AppKey("handoff", HandoffManager)
