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


YES = frozenset({"1", "true", "yes", "on"})
NO = frozenset({"0", "false", "no", "off"})


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no switch; anything else is refused, so a typo never silently picks the default."""
    raw = text(env, name).lower()
    if not raw:
        return default
    if raw in YES | NO:
        return raw in YES
    raise SettingsError(f"{name} must be 1 or 0 (or yes/no, true/false, on/off), got {raw!r}")


def positive_integer(env: Mapping[str, str], name: str, default: int) -> int:
    value = integer(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be a positive integer, got {value}")
    return value


def required(env: Mapping[str, str], name: str) -> str:
    """A secret with no safe default: refused at start-up rather than failing on the first request."""
    value = text(env, name)
    if not value:
        raise SettingsError(f"{name} is not set (make run writes development values to .kefu/dev.env)")
    return value
