"""Handoff configuration (working hours, urgent guidance, helpdesk webhook, safety on-call contact, wait estimate),
read once and validated."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from kefu.config.env import text
from kefu.config.errors import SettingsError
from kefu.config.shop import DEFAULT_TIMEZONE

_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAYS = re.compile(r"^([1-7])-([1-7])$")


@dataclass(frozen=True)
class HandoffSettings:
    """When agents work, what a customer reporting a safety problem is told, and where packets are posted."""

    # The shop's time zone (ShopSettings validates KEFU_TIMEZONE), which the working hours are in.
    tz: ZoneInfo = field(default=ZoneInfo(DEFAULT_TIMEZONE))
    opens: time = time(9, 0)
    closes: time = time(21, 0)
    # ISO weekdays (1 = Monday) agents work, inclusive.
    first_day: int = 1
    last_day: int = 7
    # Minutes one agent needs per conversation, for the honest wait estimate.
    minutes_per_case: int = 5
    # Overrides of the catalog's urgent guidance (takeover.safety_guidance), per language.
    safety_guidance_zh: str = ""
    safety_guidance_en: str = ""
    # An outside helpdesk: every context packet is POSTed here as JSON when set.
    webhook_url: str = ""
    webhook_token: str = ""
    # The on-call contact paged (an HTTP POST) when a safety report arrives outside working hours or while no
    # safety agent is online: a pager service, a phone gateway or a chat bot the shop runs.
    oncall_url: str = ""
    oncall_token: str = ""
    # The console's session cookie is Secure unless this is False (plain-http development on 127.0.0.1).
    secure_cookie: bool = True

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        return self.first_day <= local.isoweekday() <= self.last_day and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """The next moment agents are at work (now, when they already are)."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.tz)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        for _ in range(8):
            if self.first_day <= day.isoweekday() <= self.last_day:
                return datetime.combine(day, self.opens, tzinfo=self.tz)
            day += timedelta(days=1)
        raise SettingsError("KEFU_HANDOFF_DAYS leaves no working day")

    def guidance(self, lang: str) -> str:
        return self.safety_guidance_en if lang == "en" else self.safety_guidance_zh

    @classmethod
    def from_env(cls, env: Mapping[str, str], tz: ZoneInfo) -> HandoffSettings:
        """``tz`` is the shop's, read once by ShopSettings: the hours here are in the time customers are told."""
        get = partial(text, env)
        hours = get("KEFU_HANDOFF_HOURS", "09:00-21:00")
        found = _HOURS.match(hours)
        if not found:
            raise SettingsError(f"KEFU_HANDOFF_HOURS must look like 09:00-21:00, got {hours!r}")
        h1, m1, h2, m2 = map(int, found.groups())
        try:
            opens, closes = time(h1, m1), time(h2, m2)
        except ValueError:
            raise SettingsError(f"KEFU_HANDOFF_HOURS has an impossible time: {hours!r}") from None
        if closes <= opens:
            raise SettingsError(f"KEFU_HANDOFF_HOURS must close after it opens, got {hours!r}")
        days = get("KEFU_HANDOFF_DAYS", "1-7")
        found_days = _DAYS.match(days)
        if not found_days or int(found_days[1]) > int(found_days[2]):
            raise SettingsError(f"KEFU_HANDOFF_DAYS must look like 1-5 (Monday to Friday), got {days!r}")
        raw_minutes = get("KEFU_HANDOFF_MINUTES_PER_CASE", "5")
        if not raw_minutes.isdigit() or int(raw_minutes) < 1:
            raise SettingsError(f"KEFU_HANDOFF_MINUTES_PER_CASE must be a positive integer, got {raw_minutes!r}")
        return cls(
            tz=tz, opens=opens, closes=closes,
            first_day=int(found_days[1]), last_day=int(found_days[2]), minutes_per_case=int(raw_minutes),
            safety_guidance_zh=get("KEFU_SAFETY_GUIDANCE_ZH"), safety_guidance_en=get("KEFU_SAFETY_GUIDANCE_EN"),
            webhook_url=get("KEFU_HANDOFF_WEBHOOK_URL"), webhook_token=get("KEFU_HANDOFF_WEBHOOK_TOKEN"),
            secure_cookie=get("KEFU_CONSOLE_SECURE_COOKIE", "1") not in {"0", "false", "no"},
            oncall_url=_http_url(get("KEFU_ONCALL_WEBHOOK_URL"), "KEFU_ONCALL_WEBHOOK_URL"),
            oncall_token=get("KEFU_ONCALL_WEBHOOK_TOKEN"),
        )

    @property
    def pager(self) -> bool:
        """Whether a safety report can page anyone (the helpdesk webhook or the on-call contact)."""
        return bool(self.webhook_url or self.oncall_url)


def _http_url(value: str, name: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value
