"""A gateway's webhooks as Telegram (and WeChat) see them: post updates, read what was queued and what was sent."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from fakes.loopback import serving
from fakes.telegram import WEBHOOK_SECRET, FakeBotApi, fake_bot_api
from fakes.wechat import WeChatServer, fake_wechat_api
from kefu.app import appkeys
from kefu.app.gateway import create_app
from kefu.app.services import Services
from kefu.core import keys
from kefu.core.messages import InboundMessage
from tests.helpers.settings import both_channels, telegram_settings


@dataclass
class Rig:
    url: str
    services: Services
    api: FakeBotApi
    redis: aioredis.Redis
    session: aiohttp.ClientSession

    async def post(self, body: Any, *, secret: str | None = WEBHOOK_SECRET,
                   content_type: str = "application/json") -> int:
        headers = {"Content-Type": content_type}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with self.session.post(self.url, data=data, headers=headers) as response:
            return response.status

    async def queued(self) -> list[InboundMessage]:
        messages = []
        for shard in range(self.services.settings.shards):
            for _, fields in await self.redis.xrange(keys.inbox_stream(shard)):
                messages.append(InboundMessage.from_json(fields["message"]))
        return messages

    async def sent_count(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.api.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.api.sent


@dataclass
class BothChannels:
    """A gateway (no pipeline) with WeChat and Telegram on their fake APIs, and a client for each."""

    telegram: Rig
    wechat: WeChatServer


@asynccontextmanager
async def both_channels_gateway(
    redis_url: str, redis: aioredis.Redis, passive_wait_s: float
) -> AsyncIterator[BothChannels]:
    async with fake_wechat_api() as wx_api, fake_bot_api() as tg_api:
        settings = both_channels(telegram_settings(redis_url, tg_api.base_url), wx_api.base_url, tg_api.base_url)
        app = create_app(settings, run_pipeline=False)
        app[appkeys.RECEIVERS]["wechat"].passive.wait_s = passive_wait_s
        async with serving(app) as origin, aiohttp.ClientSession() as session:
            yield BothChannels(
                Rig(f"{origin}/webhooks/telegram", app[appkeys.SERVICES], tg_api, redis, session),
                WeChatServer(f"{origin}/webhooks/wechat", session),
            )
