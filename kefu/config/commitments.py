"""Service-commitment settings: the shop's order-events webhook (secret, clock window) and the CSAT survey."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.env import flag, positive_integer, text


@dataclass(frozen=True)
class CommitmentSettings:
    """Without ``order_events_secret`` the webhook answers 503: events are only accepted when signed."""

    order_events_secret: str = ""
    # How far a request's timestamp may be from our clock (seconds), either way: older requests are replays.
    order_events_window_s: int = 300
    # How long an event id is remembered, so the shop's redelivery is acknowledged and not sent again.
    order_events_ttl_s: int = 30 * 24 * 3600
    # An update WeChat's 48-hour window kept back waits this long for the customer's next contact.
    pending_ttl_s: int = 30 * 24 * 3600
    csat_enabled: bool = True
    # A conversation is not asked again within this time (never twice in a row).
    csat_cooldown_s: int = 7 * 24 * 3600
    # How long a survey waits for its score, then for the optional comment.
    csat_answer_ttl_s: int = 24 * 3600
    csat_comment_ttl_s: int = 15 * 60

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CommitmentSettings:
        defaults = cls()
        return cls(
            order_events_secret=text(env, "KEFU_ORDER_EVENTS_SECRET"),
            order_events_window_s=positive_integer(env, "KEFU_ORDER_EVENTS_WINDOW_S",
                                                   defaults.order_events_window_s),
            order_events_ttl_s=positive_integer(env, "KEFU_ORDER_EVENTS_TTL_S", defaults.order_events_ttl_s),
            pending_ttl_s=positive_integer(env, "KEFU_UPDATES_PENDING_TTL_S", defaults.pending_ttl_s),
            csat_enabled=flag(env, "KEFU_CSAT", True),
            csat_cooldown_s=positive_integer(env, "KEFU_CSAT_COOLDOWN_S", defaults.csat_cooldown_s),
            csat_answer_ttl_s=positive_integer(env, "KEFU_CSAT_ANSWER_TTL_S", defaults.csat_answer_ttl_s),
            csat_comment_ttl_s=positive_integer(env, "KEFU_CSAT_COMMENT_TTL_S", defaults.csat_comment_ttl_s),
        )
