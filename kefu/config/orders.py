"""The action server's configuration, read from the environment once at start-up."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kefu.config.settings import SettingsError

BACKENDS = ("demo", "http")
DEFAULT_RETURN_ADDRESS = "上海市浦东新区张江路 88 号 客服退货中心 (收件人: 客服退货组, 电话 400-820-8820)"


@dataclass(frozen=True)
class ActionSettings:
    """Where orders come from and the facts about the shop the bot states to customers."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    order_backend: str = "demo"
    order_api_url: str = ""
    order_api_token: str = ""
    order_api_timeout_s: float = 5.0
    return_address: str = DEFAULT_RETURN_ADDRESS
    timezone: str = "Asia/Shanghai"

    @property
    def tz(self) -> ZoneInfo:
        """The shop's time zone: every time a customer reads is in it."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionSettings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        backend = get("KEFU_ORDER_BACKEND", "demo").lower()
        if backend not in BACKENDS:
            raise SettingsError(f"KEFU_ORDER_BACKEND must be one of {BACKENDS}, got {backend!r}")
        api_url = get("KEFU_ORDER_API_URL").rstrip("/")
        token = get("KEFU_ORDER_API_TOKEN")
        if backend == "http":
            if not api_url:
                raise SettingsError("KEFU_ORDER_API_URL is not set (needed when KEFU_ORDER_BACKEND=http)")
            if not token:
                raise SettingsError("KEFU_ORDER_API_TOKEN is not set (needed when KEFU_ORDER_BACKEND=http)")
        raw_timeout = get("KEFU_ORDER_API_TIMEOUT", "5")
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise SettingsError(f"KEFU_ORDER_API_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from None
        settings = cls(
            redis_url=get("REDIS_URL", cls.redis_url),
            order_backend=backend,
            order_api_url=api_url,
            order_api_token=token,
            order_api_timeout_s=timeout,
            return_address=get("KEFU_SHOP_RETURN_ADDRESS", DEFAULT_RETURN_ADDRESS),
            timezone=get("KEFU_TIMEZONE", cls.timezone),
        )
        try:
            settings.tz
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"KEFU_TIMEZONE is not a known time zone: {settings.timezone!r}") from None
        return settings
