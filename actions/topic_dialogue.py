"""Turns that answer the bot: yes, no, and "here is the id / phone / detail you asked for"."""
from __future__ import annotations

from actions.flow import run_topic
from actions.registry import TOPICS, topic
from actions.turn import Turn
from kefu.orders.base import Order


def answers_open_question(turn: Turn) -> bool:
    """A typed yes/no answers the question open now; a tapped button only the question it was sent with."""
    if not turn.pressed:
        return True
    awaiting = turn.awaiting
    return awaiting is not None and bool(awaiting.get("question")) and turn.question == awaiting.get("question")


def refuse_stale_button(turn: Turn) -> None:
    """An old button was tapped: do nothing, say so, and show what is open now (with its own buttons)."""
    if not turn.ask_again("context.stale_pending"):
        turn.say("context.stale_nothing")


@topic("affirm")
async def affirm(turn: Turn, order: Order | None) -> None:
    awaiting = turn.awaiting
    if not answers_open_question(turn):
        refuse_stale_button(turn)
        return
    if awaiting is not None and awaiting["want"] != "confirm":
        # "ok" to "which order?": we still need the answer, so ask again rather than forget the topic.
        if not turn.ask_again("context.still_waiting"):
            turn.say("affirm.nothing")
        return
    if awaiting is None:
        turn.say("affirm.nothing")
        return
    turn.set_awaiting(None)
    pending = TOPICS.get(str(awaiting.get("topic")))
    if pending is None or pending.on_confirm is None:
        turn.say("affirm.nothing")
        return
    await pending.on_confirm(turn, awaiting)


@topic("deny")
async def deny(turn: Turn, order: Order | None) -> None:
    awaiting = turn.awaiting
    if not answers_open_question(turn):
        if turn.question is None:
            # A "No, thanks" button that answers no question of ours (the offer of a person): nothing to drop.
            turn.say("deny.nothing")
        else:
            refuse_stale_button(turn)
        return
    if awaiting is None:
        turn.say("deny.nothing")
        return
    turn.set_awaiting(None)
    pending = TOPICS.get(str(awaiting.get("topic")))
    if awaiting["want"] == "confirm" and pending is not None and pending.on_deny is not None:
        await pending.on_deny(turn, awaiting)
        return
    turn.say("deny.dropped")


@topic("inform")
async def inform(turn: Turn, order: Order | None) -> None:
    """Information with no open question: an order id most likely means "where is it?"."""
    if turn.entity("ticket_id"):
        await run_topic(turn, "ticket_status")
    elif turn.entity("order_id"):
        await run_topic(turn, "order_status")
    else:
        turn.say("inform.unclear")
