"""The messaging channels (WeChat, Telegram) a gateway serves: only those whose credentials are configured."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.channels.base import Channel
from kefu.channels.linking import Customers
from kefu.config.orders import ActionSettings
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.inbox import Inbox
from kefu.orders import create_backend


def messaging_channels(
    settings: Settings, redis: aioredis.Redis, inbox: Inbox, conversations: ConversationStore
) -> list[Channel]:
    config = settings.channels
    if not (config.wechat_enabled or config.telegram_enabled):
        return []
    # Linking a channel user to a customer checks an order: the same backend the actions use.
    customers = Customers(redis, create_backend(ActionSettings.from_env(), redis))
    channels: list[Channel] = []
    if config.wechat_enabled:
        from kefu.channels.wechat.api import CustomerServiceApi, SharedTokenClient
        from kefu.channels.wechat.channel import WeChatChannel
        from kefu.channels.wechat.verify import WeChatVerifier

        api = CustomerServiceApi(SharedTokenClient(
            config.wechat_appid, config.wechat_secret, settings.redis_url, config.wechat_api_base_url
        ))
        channels.append(WeChatChannel(
            redis=redis, inbox=inbox, conversations=conversations, customers=customers,
            verifier=WeChatVerifier(config.wechat_token, config.wechat_appid, config.wechat_aes_keys),
            api=api, max_message_chars=settings.max_message_chars, wait_s=config.wechat_passive_wait_s,
        ))
    if config.telegram_enabled:
        from kefu.channels.telegram.channel import TelegramChannel, make_bot

        channels.append(TelegramChannel(
            bot=make_bot(config.telegram_bot_token, config.telegram_api_base_url), redis=redis, inbox=inbox,
            conversations=conversations, customers=customers, webhook_secret=config.telegram_webhook_secret,
            max_message_chars=settings.max_message_chars,
        ))
    return channels
