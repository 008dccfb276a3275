"""Typed application state, declared in one place."""
from __future__ import annotations

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from kefu.channels.base import Channel
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.inbox import Inbox
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.manager import HandoffManager
from kefu.pipeline.pipeline import Pipeline

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", aioredis.Redis)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
INBOX = web.AppKey("inbox", Inbox)
CONVERSATIONS = web.AppKey("conversations", ConversationStore)
PIPELINE = web.AppKey("pipeline", Pipeline)
CHANNELS = web.AppKey("channels", dict[str, Channel])
HANDOFF = web.AppKey("handoff", HandoffManager)
