"""Turns that answer the bot: yes, no, and "here is the id / phone / detail you asked for"."""
from __future__ import annotations

from actions.flow import run_topic
from actions.registry import TOPICS, topic
from actions.turn import Turn
from kefu.orders.base import Order


@topic("affirm")
async def affirm(turn: Turn, order: Order | None) -> None:
    awaiting = turn.awaiting
    if awaiting is None or awaiting["want"] != "confirm":
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
