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


@pytest.mark.parametrize(
    ("env", "demo"),
    [
        ({}, True),  # make run on a fresh clone: its own project-local Redis
        ({"KEFU_DEMO": "0"}, False),
        ({"REDIS_URL": "redis://redis.prod:6379/0"}, False),  # a configured Redis is never seeded by default
        ({"REDIS_URL": "redis://redis.prod:6379/0", "KEFU_DEMO": ""}, False),
        ({"REDIS_URL": "redis://127.0.0.1:6390/0", "KEFU_DEMO": "1"}, True),
        ({"REDIS_URL": "redis://127.0.0.1:6390/0", "KEFU_DEMO": "yes"}, True),
    ],
)
def test_demo_mode_only_without_a_configured_redis_unless_asked(env: dict[str, str], demo: bool) -> None:
    assert Settings.from_env(SECRETS | env).demo is demo


def test_demo_mode_must_be_a_clear_yes_or_no() -> None:
    with pytest.raises(SettingsError, match="KEFU_DEMO"):
        Settings.from_env(SECRETS | {"KEFU_DEMO": "maybe"})


def test_settings_built_in_code_are_not_demo() -> None:
    """Tests, evals and benches that want the demo page or demo orders say so."""
    assert Settings(redis_url="redis://x", rasa_url="http://x", rasa_token="t", identity_secret="s").demo is False


@pytest.mark.parametrize(("raw", "seconds"), [("", 86_400), ("3600", 3600)])
def test_identity_max_age(raw: str, seconds: int) -> None:
    assert Settings.from_env(SECRETS | {"KEFU_IDENTITY_MAX_AGE_S": raw}).identity_max_age_s == seconds


@pytest.mark.parametrize("raw", ["0", "-5", "a day"])
def test_identity_max_age_must_be_positive_seconds(raw: str) -> None:
    with pytest.raises(SettingsError, match="KEFU_IDENTITY_MAX_AGE_S"):
        Settings.from_env(SECRETS | {"KEFU_IDENTITY_MAX_AGE_S": raw})
