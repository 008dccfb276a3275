"""``python -m kefu telegram set-webhook | polling``: point Telegram at the gateway, or pull updates locally.

Polling feeds the same durable inbox as the webhook; a running gateway (``make run``) answers them.
"""
from __future__ import annotations

import logging

import redis.asyncio as aioredis
from telegram.error import NetworkError

from kefu.config.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


def _require(settings: Settings) -> None:
    if not settings.channels.telegram_enabled:
        raise SystemExit("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET must be set")


async def set_webhook(settings: Settings, url: str) -> bool:
    """Register ``url`` (ending in /webhooks/telegram) with the secret token Telegram will send back."""
    from kefu.channels.telegram.channel import make_bot

    _require(settings)
    config = settings.channels
    async with make_bot(config.telegram_bot_token, config.telegram_api_base_url) as bot:
        return await bot.set_webhook(url, secret_token=config.telegram_webhook_secret,
                                     allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)


async def poll(settings: Settings, *, max_rounds: int | None = None, timeout: int = 30) -> int:
    """Long-poll getUpdates and persist every update; returns how many were taken in."""
    from kefu.channels.factory import messaging_channels
    from kefu.core.conversations import ConversationStore
    from kefu.core.inbox import Inbox

    _require(settings)
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    inbox = Inbox(redis, settings.shards)
    channel = next(c for c in messaging_channels(settings, redis, inbox, ConversationStore(redis))
                   if c.name == "telegram")
    taken = 0
    await channel.start()
    try:
        await channel.bot.delete_webhook()
        offset = 0
        rounds = 0
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            try:
                updates = await channel.bot.get_updates(offset=offset, timeout=timeout,
                                                        allowed_updates=ALLOWED_UPDATES)
            except NetworkError as error:
                log.warning("telegram polling: %s; retrying", error)
                continue
            for update in updates:
                await channel.take_update(update)
                offset = max(offset, update.update_id + 1)
                taken += 1
    finally:
        await channel.stop()
        await redis.aclose()
    return taken
