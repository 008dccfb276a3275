"""The settings tree: process layout, WeChat passive replies, the shop read once, and clear errors for bad values."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.redis_url import DEFAULT_REDIS_URL
from kefu.config.settings import Settings

SECRETS = {"KEFU_RASA_TOKEN": "t", "KEFU_IDENTITY_SECRET": "s"}


def test_process_layout_defaults_and_bounds() -> None:
    default = Settings.from_env(SECRETS)
    assert (default.gateways, default.pipeline_workers, default.background_nice) == (2, 1, 10)
    single = Settings.from_env(SECRETS | {"KEFU_GATEWAYS": "0", "KEFU_PIPELINE_WORKERS": "-3"})
    assert (single.gateways, single.pipeline_workers) == (1, 0)  # one gateway at least; 0 workers = in-process
    with pytest.raises(SettingsError, match="KEFU_PIPELINE_WORKERS"):
        Settings.from_env(SECRETS | {"KEFU_PIPELINE_WORKERS": "two"})


def test_one_tree_read_once() -> None:
    settings = Settings.from_env(SECRETS | {"KEFU_TIMEZONE": "Europe/Berlin", "KEFU_ORDER_BACKEND": "http",
                                            "KEFU_ORDER_API_URL": "https://shop.example", "KEFU_ORDER_API_TOKEN": "t"})
    assert settings.redis_url == DEFAULT_REDIS_URL and settings.orders.backend == "http"
    # The handoff's working hours are kept in the shop's time zone, not in a second reading of KEFU_TIMEZONE.
    assert settings.handoff.tz is settings.shop.tz and settings.shop.tz.key == "Europe/Berlin"
    with pytest.raises(SettingsError, match="KEFU_ORDER_BACKEND"):
        Settings.from_env(SECRETS | {"KEFU_ORDER_BACKEND": "ftp"})


@pytest.mark.parametrize("raw, seconds", [("", 4.0), ("0", 0.0), ("2.5", 2.5)])
def test_wechat_passive_wait(raw: str, seconds: float) -> None:
    assert Settings.from_env(SECRETS | {"WECHAT_PASSIVE_WAIT_S": raw}).channels.wechat_passive_wait_s == seconds


@pytest.mark.parametrize("raw", ["5", "-1", "soon"])
def test_wechat_passive_wait_beyond_wechats_deadline_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="WECHAT_PASSIVE_WAIT_S"):
        Settings.from_env(SECRETS | {"WECHAT_PASSIVE_WAIT_S": raw})
