"""A gateway's Telegram webhook as Telegram sees it: post updates, read what was queued and what was sent."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bot.inbox import stream_key
from bot.messages import InboundMessage
from connectors.telegram import TelegramChannel
from tests.helpers.fake_telegram import WEBHOOK_SECRET, FakeBotApi


@dataclass
class Rig:
    url: str
    channel: TelegramChannel
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
        for shard in range(self.channel.inbox.shards):
            for _, fields in await self.redis.xrange(stream_key(shard)):
                messages.append(InboundMessage.from_json(fields["message"]))
        return messages

    async def sent_count(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.api.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.api.sent
