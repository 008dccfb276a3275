"""Telegram's sending limits, shared in Redis by every gateway process: about 1 message a second per chat,
30 a second overall, and a pause for everyone when Telegram answers 429 with ``retry_after``."""
from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from kefu.core import keys

PER_CHAT_INTERVAL_MS = 1000
GLOBAL_PER_SECOND = 30

# Reserve the chat's next free slot (a chat's messages are spaced 1 s apart): returns how long to wait, in ms.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', slot - now + tonumber(ARGV[1]) + 1000)
return slot - now
"""


class TelegramLimiter:
    """Waits until a message to this chat may go out."""

    def __init__(self, redis: aioredis.Redis, per_chat_interval_ms: int = PER_CHAT_INTERVAL_MS,
                 global_per_second: int = GLOBAL_PER_SECOND) -> None:
        self.redis = redis
        self.per_chat_interval_ms = per_chat_interval_ms
        self.global_per_second = global_per_second
        self._reserve = redis.register_script(_RESERVE)

    async def wait(self, chat_id: str) -> None:
        pause_ms = await self.redis.pttl(keys.TELEGRAM_PAUSE)
        if pause_ms > 0:
            await asyncio.sleep(pause_ms / 1000)
        wait_ms = await self._reserve(keys=[keys.telegram_next_send(chat_id)], args=[self.per_chat_interval_ms])
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / 1000)
        while True:  # a fixed one-second window for the bot as a whole
            second = int(time.time())
            key = keys.telegram_second(second)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 5)
                count, _ = await pipe.execute()
            if count <= self.global_per_second:
                return
            await asyncio.sleep(max(0.01, second + 1 - time.time()))

    async def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends for ``seconds``."""
        await self.redis.set(keys.TELEGRAM_PAUSE, "1", px=max(1, int(seconds * 1000)))
