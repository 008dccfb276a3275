"""``python -m kefu telegram set-webhook | polling``: point Telegram at the gateway, or pull updates locally.

Polling feeds the same durable inbox as the webhook; a running gateway (``make run``) answers them.
"""
from __future__ import annotations

import logging

from telegram.error import NetworkError

from kefu.app.services import Services
from kefu.channels import factory
from kefu.channels.telegram.sender import make_bot
from kefu.config.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


def _require(settings: Settings) -> None:
    if not settings.channels.telegram_enabled:
        raise SystemExit("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET must be set")


async def set_webhook(settings: Settings, url: str) -> bool:
    """Register ``url`` (ending in /webhooks/telegram) with the secret token Telegram will send back."""
    _require(settings)
    config = settings.channels
    async with make_bot(config.telegram_bot_token, config.telegram_api_base_url) as bot:
        return await bot.set_webhook(url, secret_token=config.telegram_webhook_secret,
                                     allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)


async def poll(settings: Settings, *, max_rounds: int | None = None, timeout: int = 30) -> int:
    """Long-poll getUpdates and persist every update; returns how many were taken in."""
    _require(settings)
    services = Services.build(settings)
    receiver = factory.receivers(settings, services.redis, services.intake, services.delivery, services.customers,
                                 services.senders)["telegram"]
    bot = services.senders["telegram"].bot
    taken = 0
    async with services.running():
        await receiver.start()
        try:
            await bot.delete_webhook()
            offset = 0
            rounds = 0
            while max_rounds is None or rounds < max_rounds:
                rounds += 1
                try:
                    updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
                except NetworkError as error:
                    log.warning("telegram polling: %s; retrying", error)
                    continue
                for update in updates:
                    await receiver.take_update(update)
                    offset = max(offset, update.update_id + 1)
                    taken += 1
        finally:
            await receiver.stop()
    return taken
