"""Which channels a process has: web chat always, WeChat and Telegram only when their credentials are set.

``senders`` is all a worker needs (it answers); a gateway also builds the ``receivers`` (it takes messages in).
"""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.channels.base import ChannelReceiver, ChannelSender
from kefu.channels.intake import Intake
from kefu.channels.linking import Customers
from kefu.channels.webchat.receiver import WebChatReceiver
from kefu.channels.webchat.sender import WebChatSender
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery


def senders(
    settings: Settings, redis: aioredis.Redis, conversations: ConversationStore, customers: Customers
) -> dict[str, ChannelSender]:
    config = settings.channels
    built: list[ChannelSender] = [WebChatSender(redis)]
    if config.wechat_enabled:
        from kefu.channels.wechat.api import CustomerServiceApi, SharedTokenClient
        from kefu.channels.wechat.sender import WeChatSender

        api = CustomerServiceApi(SharedTokenClient(
            config.wechat_appid, config.wechat_secret, settings.redis_url, config.wechat_api_base_url
        ))
        built.append(WeChatSender(redis, conversations, customers, api))
    if config.telegram_enabled:
        from kefu.channels.telegram.sender import TelegramSender, make_bot

        bot = make_bot(config.telegram_bot_token, config.telegram_api_base_url)
        built.append(TelegramSender(bot, redis, conversations, customers))
    return {sender.name: sender for sender in built}


def receivers(
    settings: Settings, redis: aioredis.Redis, intake: Intake, delivery: Delivery, customers: Customers,
    sent_by: dict[str, ChannelSender],
) -> dict[str, ChannelReceiver]:
    """The gateway's endpoints; each messaging channel's receiver shares its sender's client (one Bot, one API)."""
    config = settings.channels
    origins = {settings.public_origin, f"http://localhost:{settings.port}", *settings.allowed_origins}
    built: list[ChannelReceiver] = [WebChatReceiver(redis, intake, delivery, settings.identity_secret, origins,
                                                    identity_max_age_s=settings.identity_max_age_s,
                                                    limits=settings.webchat)]
    if config.wechat_enabled:
        from kefu.channels.wechat.receiver import WeChatReceiver
        from kefu.channels.wechat.verify import WeChatVerifier

        verifier = WeChatVerifier(config.wechat_token, config.wechat_appid, config.wechat_aes_keys)
        built.append(WeChatReceiver(redis, intake, delivery, customers, verifier, sent_by["wechat"],
                                    wait_s=config.wechat_passive_wait_s))
    if config.telegram_enabled:
        from kefu.channels.telegram.receiver import TelegramReceiver

        built.append(TelegramReceiver(sent_by["telegram"].bot, intake, delivery, customers,
                                      config.telegram_webhook_secret))
    return {receiver.name: receiver for receiver in built}
