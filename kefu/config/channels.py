"""WeChat and Telegram credentials, read once from the environment and checked together.

A channel is served only when its credentials are set; half a configuration is an error naming what is missing.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.errors import SettingsError

_AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WECHAT_REQUIRED = ("WECHAT_APPID", "WECHAT_TOKEN", "WECHAT_SECRET")


@dataclass(frozen=True)
class ChannelSettings:
    wechat_appid: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_previous_aes_key: str = ""
    wechat_secret: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    # How long a WeChat push waits for the bot's answer to return it as the passive reply (WeChat gives up at
    # 5 s); 0 always answers ``success`` at once and sends every reply through the customer-service API.
    wechat_passive_wait_s: float = 4.0

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_appid and self.wechat_token and self.wechat_secret)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def wechat_aes_keys(self) -> tuple[str, ...]:
        """Current key first; the previous one is still accepted for messages encrypted before a rotation."""
        return tuple(k for k in (self.wechat_aes_key, self.wechat_previous_aes_key) if k)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChannelSettings:
        env = os.environ if env is None else env
        names = ("WECHAT_APPID", "WECHAT_TOKEN", "WECHAT_AES_KEY", "WECHAT_PREVIOUS_AES_KEY", "WECHAT_SECRET",
                 "WECHAT_API_BASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL")
        values = {name: env.get(name, "").strip() for name in names}
        if any(values[n] for n in WECHAT_REQUIRED) and not all(values[n] for n in WECHAT_REQUIRED):
            missing = ", ".join(n for n in WECHAT_REQUIRED if not values[n])
            raise SettingsError(f"{missing} not set: the WeChat channel needs {', '.join(WECHAT_REQUIRED)}")
        for name in ("WECHAT_AES_KEY", "WECHAT_PREVIOUS_AES_KEY"):
            if values[name] and not _AES_KEY.match(values[name]):
                raise SettingsError(f"{name} must be the 43-character EncodingAESKey from the WeChat console")
        if values["WECHAT_PREVIOUS_AES_KEY"] and not values["WECHAT_AES_KEY"]:
            raise SettingsError("WECHAT_PREVIOUS_AES_KEY is set but WECHAT_AES_KEY is not")
        if values["TELEGRAM_BOT_TOKEN"] and not values["TELEGRAM_WEBHOOK_SECRET"]:
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET is not set: the Telegram webhook must be protected")
        if values["TELEGRAM_WEBHOOK_SECRET"] and not _TELEGRAM_SECRET.match(values["TELEGRAM_WEBHOOK_SECRET"]):
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return cls(**{name.lower(): value for name, value in values.items() if value},
                   wechat_passive_wait_s=_passive_wait(env.get("WECHAT_PASSIVE_WAIT_S", "").strip()))


def _passive_wait(raw: str) -> float:
    if not raw:
        return ChannelSettings.wechat_passive_wait_s
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 4.5:
        raise SettingsError("WECHAT_PASSIVE_WAIT_S must be a number of seconds from 0 to 4.5 (WeChat waits 5)")
    return seconds
