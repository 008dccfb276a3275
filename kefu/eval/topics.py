"""How intents map to the topics and handoff reasons that reports and the eval speak of."""
from __future__ import annotations

SMALLTALK = {"greet", "goodbye", "thank"}
HANDOFF_REASONS = {"safety_issue": "safety", "complaint": "complaint", "request_human": "human"}
# When several turns ask for a person, the most urgent reason names the handoff.
REASON_PRIORITY = ("safety", "complaint", "human")


def topic_of(intent: str | None) -> str:
    if intent in SMALLTALK:
        return "smalltalk"
    return intent or "nlu_fallback"


def handoff_reason(intents: list[str | None]) -> str | None:
    reasons = {HANDOFF_REASONS[i] for i in intents if i in HANDOFF_REASONS}
    return next((reason for reason in REASON_PRIORITY if reason in reasons), None)
