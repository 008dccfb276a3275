"""How long Kefu keeps its own per-message bookkeeping in Redis, and how much of it (issue 9, defect 11).

Transcripts and tickets are the shop's record and are kept; what grows with every message only to make the
pipeline safe (dedupe keys, done and progress markers, per-turn understanding) expires or is bounded here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.env import positive_integer

DAY_S = 24 * 3600


@dataclass(frozen=True)
class RetentionSettings:
    # A channel's message id is remembered this long: retries and redeliveries within it are deduplicated
    # (WeChat retries for seconds, Telegram for up to a day; the widget's outbox for as long as a tab is open).
    seen_ttl_s: int = 7 * DAY_S
    # An answered inbox entry's done marker and progress record: a crash is replayed within minutes, so a day
    # is ample, and the keys do not pile up with every message.
    done_ttl_s: int = DAY_S
    # What the NLU understood of each customer turn: kept while the conversation is active, at most this many.
    understanding_ttl_s: int = 90 * DAY_S
    understanding_max_turns: int = 500
    # The context packet looks up at most this many of the conversation's orders (the most recent ones).
    context_max_orders: int = 20
    # Entries kept in the dead-letter stream (oldest dropped first).
    dead_letter_max: int = 10_000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetentionSettings:
        default = cls()
        return cls(
            seen_ttl_s=positive_integer(env, "KEFU_RETENTION_SEEN_S", default.seen_ttl_s),
            done_ttl_s=positive_integer(env, "KEFU_RETENTION_DONE_S", default.done_ttl_s),
            understanding_ttl_s=positive_integer(env, "KEFU_RETENTION_UNDERSTANDING_S", default.understanding_ttl_s),
            understanding_max_turns=positive_integer(env, "KEFU_RETENTION_UNDERSTANDING_TURNS",
                                                     default.understanding_max_turns),
            context_max_orders=positive_integer(env, "KEFU_CONTEXT_MAX_ORDERS", default.context_max_orders),
            dead_letter_max=positive_integer(env, "KEFU_DEAD_LETTER_MAX", default.dead_letter_max),
        )
