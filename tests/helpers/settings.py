"""Settings the end-to-end tests share: agents always at work, and both channels on their fake APIs."""
from __future__ import annotations

import dataclasses
from datetime import time

from fakes.telegram import BOT_TOKEN, WEBHOOK_SECRET
from fakes.wechat import AES_KEY, APPID, SECRET, TOKEN
from kefu.config.channels import ChannelSettings
from kefu.config.handoff import HandoffSettings
from kefu.config.settings import Settings
from kefu.ops.stack import free_port

# Working hours around the clock, so a test never depends on when it runs.
ALWAYS_OPEN = HandoffSettings(opens=time(0, 0), closes=time(23, 59, 59, 999999))


def both_channels(settings: Settings, wechat_api: str, telegram_api: str) -> Settings:
    """``settings`` with WeChat and Telegram enabled, talking to the fake APIs at these base URLs."""
    return dataclasses.replace(settings, channels=ChannelSettings(
        wechat_appid=APPID, wechat_token=TOKEN, wechat_secret=SECRET, wechat_aes_key=AES_KEY,
        wechat_api_base_url=wechat_api, telegram_bot_token=BOT_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=telegram_api))


def telegram_settings(redis_url: str, api_base_url: str) -> Settings:
    """A gateway with only Telegram, on a free port, talking to the fake Bot API (Rasa is not needed)."""
    channels = ChannelSettings(telegram_bot_token=BOT_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET,
                               telegram_api_base_url=api_base_url)
    return Settings(redis_url=redis_url, rasa_url="http://127.0.0.1:9", rasa_token="t", identity_secret="s",
                    port=free_port(), channels=channels)
