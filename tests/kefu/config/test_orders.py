"""Order backend settings: defaults, validation, and errors that name the setting."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.orders import OrderSettings


def test_defaults() -> None:
    assert OrderSettings.from_env({}) == OrderSettings(backend="demo", api_url="", api_token="", api_timeout_s=5.0)


def test_http_backend_values() -> None:
    settings = OrderSettings.from_env({
        "KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_URL": "https://shop.example/api/", "KEFU_ORDER_API_TOKEN": "t",
        "KEFU_ORDER_API_TIMEOUT": "2.5",
    })
    assert (settings.backend, settings.api_url, settings.api_token) == ("http", "https://shop.example/api", "t")
    assert settings.api_timeout_s == 2.5


@pytest.mark.parametrize("env,name", [
    ({"KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_TOKEN": "t"}, "KEFU_ORDER_API_URL"),
    ({"KEFU_ORDER_BACKEND": "http", "KEFU_ORDER_API_URL": "http://x"}, "KEFU_ORDER_API_TOKEN"),
    ({"KEFU_ORDER_BACKEND": "ftp"}, "KEFU_ORDER_BACKEND"),
    ({"KEFU_ORDER_API_TIMEOUT": "soon"}, "KEFU_ORDER_API_TIMEOUT"),
])
def test_errors_name_the_setting(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        OrderSettings.from_env(env)
