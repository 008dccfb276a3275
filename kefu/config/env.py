"""Reading single environment variables: stripped, defaulted, or refused with a SettingsError naming them."""
from __future__ import annotations

from collections.abc import Mapping

from kefu.config.errors import SettingsError


def text(env: Mapping[str, str], name: str, default: str = "") -> str:
    """The variable's value without surrounding blanks; an empty value means the default, as if unset."""
    return env.get(name, "").strip() or default


def integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = text(env, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def required(env: Mapping[str, str], name: str) -> str:
    """A secret with no safe default: refused at start-up rather than failing on the first request."""
    value = text(env, name)
    if not value:
        raise SettingsError(f"{name} is not set (make run writes development values to .kefu/dev.env)")
    return value
