"""The action server's settings: defaults, validation, and errors that name the setting."""
from __future__ import annotations

import pytest

from kefu.config.orders import DEFAULT_RETURN_ADDRESS, ActionSettings
from kefu.config.settings import SettingsError


def test_defaults() -> None:
    settings = ActionSettings.from_env({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.order_backend == "demo" and settings.return_address == DEFAULT_RETURN_ADDRESS


def test_http_backend_values() -> None:
    settings = ActionSettings.from_env({
        "KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_URL": "https://shop.example/api/", "KEFU_ORDER_API_TOKEN": "t",
        "REDIS_URL": "redis://10.0.0.2:6379/3", "KEFU_SHOP_RETURN_ADDRESS": "Return desk 1",
    })
    assert settings.order_api_url == "https://shop.example/api" and settings.order_api_token == "t"
    assert settings.redis_url == "redis://10.0.0.2:6379/3" and settings.return_address == "Return desk 1"


@pytest.mark.parametrize("env,name", [
    ({"KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_TOKEN": "t"}, "KEFU_ORDER_API_URL"),
    ({"KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_URL": "http://x"}, "KEFU_ORDER_API_TOKEN"),
    ({"KEFU_ORDER_BACKEND": "ftp"}, "KEFU_ORDER_BACKEND"),
    ({"KEFU_ORDER_API_TIMEOUT": "soon"}, "KEFU_ORDER_API_TIMEOUT"),
    ({"KEFU_TIMEZONE": "Mars/Olympus"}, "KEFU_TIMEZONE"),
])
def test_errors_name_the_setting(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ActionSettings.from_env(env)
