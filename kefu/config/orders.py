"""Where orders come from (the demo store or the shop's REST API): shared by the gateway and the action server."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.env import text
from kefu.config.errors import SettingsError

BACKENDS = ("demo", "http")


@dataclass(frozen=True)
class OrderSettings:
    """Which OrderBackend to build and how to reach the shop's API; both processes must build the same one."""

    backend: str = "demo"
    api_url: str = ""
    api_token: str = ""
    api_timeout_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OrderSettings:
        backend = text(env, "KEFU_ORDER_BACKEND", "demo").lower()
        if backend not in BACKENDS:
            raise SettingsError(f"KEFU_ORDER_BACKEND must be one of {BACKENDS}, got {backend!r}")
        api_url = text(env, "KEFU_ORDER_API_URL").rstrip("/")
        token = text(env, "KEFU_ORDER_API_TOKEN")
        if backend == "http":
            if not api_url:
                raise SettingsError("KEFU_ORDER_API_URL is not set (needed when KEFU_ORDER_BACKEND=http)")
            if not token:
                raise SettingsError("KEFU_ORDER_API_TOKEN is not set (needed when KEFU_ORDER_BACKEND=http)")
        raw_timeout = text(env, "KEFU_ORDER_API_TIMEOUT", "5")
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise SettingsError(f"KEFU_ORDER_API_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from None
        return cls(backend=backend, api_url=api_url, api_token=token, api_timeout_s=timeout)
