"""The shop's facts: defaults, the return address, and a time zone validated in this one place."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.shop import DEFAULT_RETURN_ADDRESS, ShopSettings


def test_defaults_and_values() -> None:
    default = ShopSettings.from_env({})
    assert (default.tz.key, default.return_address) == ("Asia/Shanghai", DEFAULT_RETURN_ADDRESS)
    shop = ShopSettings.from_env({"KEFU_TIMEZONE": "Europe/Berlin", "KEFU_SHOP_RETURN_ADDRESS": " Return desk 1 "})
    assert (shop.tz.key, shop.return_address) == ("Europe/Berlin", "Return desk 1")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd"])
def test_unknown_time_zone_names_the_variable(zone: str) -> None:
    with pytest.raises(SettingsError, match="KEFU_TIMEZONE"):
        ShopSettings.from_env({"KEFU_TIMEZONE": zone})
