"""The shared conversation flow every action runs: pending questions first, then the topic, with its order."""
from __future__ import annotations

import logging
from typing import Any

from actions.registry import TOPICS
from actions.resolve import resolve_order
from actions.turn import Turn
from kefu.core.answers import yes_or_no

log = logging.getLogger(__name__)

# Questions whose answer is the next message's text, whatever intent the NLU gives it.
FREE_TEXT_WANTS = frozenset({"address", "invoice"})
ID_WANTS = frozenset({"order_id", "phone"})
# Readings that ask for nothing themselves: while we wait for an answer, a message the model read as one of
# these is first tried as that answer (a bare id taken for nonsense, "可以" for small talk).
NO_REQUEST_TOPICS = frozenset({"inform", "fallback", "out_of_scope", "smalltalk"})
ANSWER_ENTITIES = ("order_id", "phone", "ticket_id")
# While we wait for an address or an invoice title, a message the model is this sure asks for another topic
# (or one naming an order for another topic) is that request, not the text we asked for.
NEW_REQUEST_CONFIDENCE = 0.85


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


def _carries_id(turn: Turn) -> bool:
    return bool(turn.entity("order_id") or turn.entity("phone"))


def _answers_id_question(turn: Turn, action_topic: str) -> bool:
    """An inform turn, or a wordless message or one read as no request, carrying an id or phone digits, answers
    our id/phone question; a message asking for another topic ("refund DD…") starts that topic instead."""
    if action_topic == "inform":
        return True
    return (turn.is_bare or action_topic in NO_REQUEST_TOPICS) and _carries_id(turn)


def _another_request(turn: Turn, action_topic: str, pending_topic: str) -> bool:
    """The message asks for a different topic: read so with confidence, or naming an order for it."""
    if action_topic == pending_topic or action_topic in NO_REQUEST_TOPICS or action_topic not in TOPICS:
        return False
    if action_topic in ("affirm", "deny"):
        return False
    return turn.confidence >= NEW_REQUEST_CONFIDENCE or (TOPICS[action_topic].needs_order and _carries_id(turn))


async def _answer_awaited(turn: Turn, awaiting: dict[str, Any], action_topic: str) -> bool:
    """Read the message as the answer to our open question; False when it is not one (then the intent acts)."""
    want = awaiting["want"]
    pending = TOPICS[awaiting["topic"]]
    if want in FREE_TEXT_WANTS and action_topic != "deny" and not turn.pressed and pending.on_text is not None:
        if _another_request(turn, action_topic, pending.name):
            return False  # "cancel DD…" while we wait for an invoice title: the customer moved on
        if action_topic == "affirm" and yes_or_no(turn.text) is not None:
            return turn.ask_again("context.unclear_pending")  # "ok" is no address or invoice title
        await pending.on_text(turn, awaiting)
        return True
    if want in ID_WANTS and _answers_id_question(turn, action_topic):
        turn.set_awaiting(None)
        await run_topic(turn, pending.name, resume=awaiting)
        return True
    if want == "confirm" and action_topic in NO_REQUEST_TOPICS and not turn.pressed:
        answer = yes_or_no(turn.text)
        if answer is not None:
            await run_topic(turn, answer)
            return True
        if action_topic == "fallback":
            return turn.ask_again("context.unclear_pending")
    return False


async def dispatch(turn: Turn, action_topic: str) -> None:
    """Check what we are waiting for before doing what the action's intent asks (spec: awaiting first)."""
    awaiting = turn.awaiting
    if awaiting is not None and awaiting.get("topic") in TOPICS and await _answer_awaited(turn, awaiting, action_topic):
        return
    if action_topic in ("fallback", "out_of_scope") and turn.is_bare and any(map(turn.entity, ANSWER_ENTITIES)):
        # A bare id the model could not place ("T-100871" at low confidence) is information, not nonsense.
        action_topic = "inform"
    await run_topic(turn, action_topic)
