"""Handoff settings are validated once, and working hours decide what a waiting customer is told."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bench.handoff import percentile
from kefu.config.errors import SettingsError
from kefu.config.handoff import HandoffSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_working_hours_and_next_opening() -> None:
    settings = HandoffSettings.from_env({"KEFU_HANDOFF_HOURS": "09:00-18:00", "KEFU_HANDOFF_DAYS": "1-5"}, SHANGHAI)
    # Friday 20:00 in Shanghai is closed; agents are back on Monday 09:00.
    friday_evening = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert not settings.is_open(friday_evening)
    opens = settings.next_opening(friday_evening)
    assert (opens.isoweekday(), opens.hour, opens.minute) == (1, 9, 0)
    monday_noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert settings.is_open(monday_noon) and settings.next_opening(monday_noon) == monday_noon


@pytest.mark.parametrize(("name", "value"), [
    ("KEFU_HANDOFF_HOURS", "9-18"), ("KEFU_HANDOFF_HOURS", "18:00-09:00"), ("KEFU_HANDOFF_HOURS", "25:00-26:00"),
    ("KEFU_HANDOFF_DAYS", "5-1"), ("KEFU_HANDOFF_MINUTES_PER_CASE", "0"),
])
def test_bad_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        HandoffSettings.from_env({name: value}, SHANGHAI)


def test_nearest_rank_percentile() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
