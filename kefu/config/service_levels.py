"""Service levels a supervisor is measured against: first-response targets per priority, the share of finished
conversations sampled for quality review, and who may scrape ``/metrics``."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kefu.config.env import positive_integer, text
from kefu.config.errors import SettingsError

# First response (an agent's first words to the customer) within: urgent 1 minute, high 5, normal 15.
DEFAULT_FIRST_RESPONSE_S: dict[str, int] = {"urgent": 60, "high": 300, "normal": 900}
# The share of finished conversations (bot and human) a supervisor reviews: the figure one platform raised to.
DEFAULT_QA_SHARE = 0.05


@dataclass(frozen=True)
class ServiceLevels:
    """``metrics_token`` empty: ``/metrics`` answers only to the loopback address."""

    first_response_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_FIRST_RESPONSE_S))
    qa_share: float = DEFAULT_QA_SHARE
    metrics_token: str = ""

    def target(self, priority: str) -> int:
        """The first-response target of a priority (an unknown one is held to the normal target)."""
        return self.first_response_s.get(priority, self.first_response_s["normal"])

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServiceLevels:
        targets = {priority: positive_integer(env, f"KEFU_SLA_{priority.upper()}_S", default)
                   for priority, default in DEFAULT_FIRST_RESPONSE_S.items()}
        raw_share = text(env, "KEFU_QA_SHARE", str(DEFAULT_QA_SHARE))
        try:
            share = float(raw_share)
        except ValueError:
            raise SettingsError(f"KEFU_QA_SHARE must be a number from 0 to 1, got {raw_share!r}") from None
        if not 0.0 <= share <= 1.0:
            raise SettingsError(f"KEFU_QA_SHARE must be from 0 to 1, got {raw_share!r}")
        return cls(first_response_s=targets, qa_share=share, metrics_token=text(env, "KEFU_METRICS_TOKEN"))
