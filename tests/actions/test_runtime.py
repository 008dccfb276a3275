"""The action server reads the same Redis, order backend and shop settings as the gateway, without its secrets."""
from __future__ import annotations

import pytest

from actions.runtime import ActionServerSettings
from kefu.config.errors import SettingsError
from kefu.config.settings import Settings


def test_same_defaults_as_the_gateway() -> None:
    gateway = Settings.from_env({"KEFU_RASA_TOKEN": "t", "KEFU_IDENTITY_SECRET": "s"})
    actions = ActionServerSettings.from_env({})
    assert (actions.redis_url, actions.orders, actions.shop) == (gateway.redis_url, gateway.orders, gateway.shop)


def test_values_and_errors() -> None:
    settings = ActionServerSettings.from_env({"REDIS_URL": "redis://10.0.0.2:6379/3",
                                              "KEFU_SHOP_RETURN_ADDRESS": "Return desk 1"})
    assert settings.redis_url == "redis://10.0.0.2:6379/3" and settings.shop.return_address == "Return desk 1"
    with pytest.raises(SettingsError, match="KEFU_TIMEZONE"):
        ActionServerSettings.from_env({"KEFU_TIMEZONE": "Mars/Olympus"})
