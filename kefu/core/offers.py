"""The offer of a person: asked, never claimed (field note 4: "transferring you" only when it happened).

Said by the action server when the model saw a complaint, a safety report or a request for a person below the
handoff threshold, and by the handoff manager when the customer seems stuck (the same question again, or the
bot misunderstanding turn after turn). The "yes" button sends the intent that opens the handoff.
"""
from __future__ import annotations

from kefu.core.i18n import t
from kefu.core.messages import Button

# What each offer is about, and the intent its "yes" button sends.
INTENT_OF_KIND = {"complaint": "complaint", "safety": "safety_issue", "human": "request_human"}


def offer(kind: str, lang: str | None) -> tuple[str, tuple[Button, ...]]:
    """The question and its two buttons, in the customer's language."""
    return t(f"handoff.{kind}", lang), (
        Button(t(f"handoff.yes_{kind}", lang), f"/{INTENT_OF_KIND[kind]}"),
        Button(t("handoff.decline", lang), "/deny"),
    )
