"""Web chat's limits and trusted proxies from the environment: defaults, 0 for no limit, clear refusals."""
from __future__ import annotations

import ipaddress

import pytest

from kefu.config.errors import SettingsError
from kefu.config.settings import Settings
from kefu.config.webchat import WebChatSettings

SECRETS = {"KEFU_RASA_TOKEN": "t", "KEFU_IDENTITY_SECRET": "s"}


def test_defaults_limit_everything() -> None:
    limits = Settings.from_env(SECRETS).webchat
    assert limits == WebChatSettings()
    assert all(value > 0 for value in (limits.sockets_per_conversation, limits.sockets_per_address,
                                       limits.messages_per_minute_per_conversation,
                                       limits.messages_per_minute_per_address,
                                       limits.new_visitors_per_hour_per_address))
    assert limits.trusted_proxies == ()


def test_values_from_the_environment() -> None:
    limits = WebChatSettings.from_env({"KEFU_WEBCHAT_SOCKETS_PER_ADDRESS": "0",
                                       "KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_CONVERSATION": "7",
                                       "KEFU_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert limits.sockets_per_address == 0 and limits.messages_per_minute_per_conversation == 7
    assert limits.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(("name", "value"), [("KEFU_WEBCHAT_SOCKETS_PER_CONVERSATION", "-1"),
                                             ("KEFU_WEBCHAT_NEW_VISITORS_PER_HOUR_PER_ADDRESS", "many"),
                                             ("KEFU_TRUSTED_PROXIES", "proxy.example")])
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        WebChatSettings.from_env({name: value})
