"""The shared conversation flow every action runs: pending questions first, then the topic, with its order."""
from __future__ import annotations

import logging
from typing import Any

from actions.registry import TOPICS
from actions.resolve import resolve_order
from actions.turn import Turn

log = logging.getLogger(__name__)

# Questions whose answer is the next message's text, whatever intent the NLU gives it.
FREE_TEXT_WANTS = frozenset({"address", "invoice"})
ID_WANTS = frozenset({"order_id", "phone"})


async def run_topic(turn: Turn, name: str, resume: dict[str, Any] | None = None) -> None:
    """Answer the turn as topic `name`; `resume` is the question we had asked when continuing a topic."""
    topic = TOPICS[name]
    turn.resumed = resume
    if topic.clears_awaiting:
        turn.set_awaiting(None)
    order = None
    if topic.needs_order:
        order = await resolve_order(turn, name, resume)
        if order is None:
            return
    await topic.handle(turn, order)


def _answers_id_question(turn: Turn, action_topic: str) -> bool:
    """An inform turn, or a wordless message carrying an id or phone digits, answers our id/phone question."""
    if action_topic == "inform":
        return True
    return turn.is_bare and bool(turn.entity("order_id") or turn.entity("phone"))


async def dispatch(turn: Turn, action_topic: str) -> None:
    """Check what we are waiting for before doing what the action's intent asks (spec: awaiting first)."""
    awaiting = turn.awaiting
    if awaiting is not None and awaiting.get("topic") in TOPICS:
        want = awaiting["want"]
        pending = TOPICS[awaiting["topic"]]
        if want in FREE_TEXT_WANTS and action_topic != "deny" and pending.on_text is not None:
            await pending.on_text(turn, awaiting)
            return
        if want in ID_WANTS and _answers_id_question(turn, action_topic):
            turn.set_awaiting(None)
            await run_topic(turn, pending.name, resume=awaiting)
            return
    await run_topic(turn, action_topic)
