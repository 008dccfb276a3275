"""How intents map to the topics that reports and the eval speak of."""
from __future__ import annotations

SMALLTALK = {"greet", "goodbye", "thank"}


def topic_of(intent: str | None) -> str:
    if intent in SMALLTALK:
        return "smalltalk"
    return intent or "nlu_fallback"
