"""Facts about the shop: its time zone (validated here, once) and the address returns are sent to."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kefu.config.env import text
from kefu.config.errors import SettingsError

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_RETURN_ADDRESS = "上海市浦东新区张江路 88 号 客服退货中心 (收件人: 客服退货组, 电话 400-820-8820)"


@dataclass(frozen=True)
class ShopSettings:
    """What the bot states to customers and the clock agents work by; read by the actions and the handoff."""

    timezone: str = DEFAULT_TIMEZONE
    return_address: str = DEFAULT_RETURN_ADDRESS

    @property
    def tz(self) -> ZoneInfo:
        """The shop's time zone: every time a customer reads, and the agents' working hours, are in it."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ShopSettings:
        timezone = text(env, "KEFU_TIMEZONE", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"KEFU_TIMEZONE is not a known time zone: {timezone!r}") from None
        return cls(timezone=timezone, return_address=text(env, "KEFU_SHOP_RETURN_ADDRESS", DEFAULT_RETURN_ADDRESS))
