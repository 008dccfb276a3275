"""How long Rasa may be unreachable before waiting customers are offered a person (issue 9, defect 12)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.env import text
from kefu.config.errors import SettingsError

DEFAULT_BOT_UNAVAILABLE_AFTER_S = 60.0


@dataclass(frozen=True)
class OutageSettings:
    # Seconds of Rasa being unreachable after which a waiting customer gets a ``bot_unavailable`` handoff;
    # 0 turns it off (messages then wait for Rasa however long it takes).
    bot_unavailable_after_s: float = DEFAULT_BOT_UNAVAILABLE_AFTER_S

    @property
    def enabled(self) -> bool:
        return self.bot_unavailable_after_s > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OutageSettings:
        raw = text(env, "KEFU_BOT_UNAVAILABLE_AFTER_S")
        if not raw:
            return cls()
        try:
            after = float(raw)
        except ValueError:
            after = -1.0
        if not 0 <= after < 86_400:
            raise SettingsError(f"KEFU_BOT_UNAVAILABLE_AFTER_S must be seconds from 0 (off) to 86399, got {raw!r}")
        return cls(bot_unavailable_after_s=after)
