"""The handoff manager's conversation signals look at the current exchange, not at last week's."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core.conversations import Understanding
from kefu.core.i18n import t
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.dialogue.rasa_client import RasaClient, RasaTurn
from kefu.handoff.decision import Decision
from kefu.handoff.manager import HandoffManager
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.delivery import recording_delivery

QUESTION = "where is my parcel DD20261104005"
TRACKING = RasaTurn(replies=[], understanding=Understanding(intent="order_status", confidence=0.95, entities=[]))


@pytest.fixture
async def manager(redis_client: aioredis.Redis) -> AsyncIterator[HandoffManager]:
    async with aiohttp.ClientSession() as http:  # Rasa is not running: pausing its tracker is only logged
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        delivery, _ = recording_delivery(redis_client)
        manager = HandoffManager(redis_client, rasa, DemoOrderBackend(redis_client), HandoffSettings(), delivery)
        yield manager


async def _asked(redis: aioredis.Redis, message_id: str, seconds_ago: float) -> InboundMessage:
    message = InboundMessage(channel="web", sender="c1002", conversation_id="cust:c1002", text=QUESTION,
                             message_id=message_id, customer_id="c1002", received_at=time.time() - seconds_ago)
    assert await Inbox(redis, shards=2).submit(message)
    return message


async def test_asking_again_the_next_day_is_checking_on_the_order_not_being_stuck(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    await _asked(redis_client, "yesterday", 24 * 3600)
    today = await _asked(redis_client, "today", 0)
    assert not (await manager.after(today, TRACKING)).handoff


async def test_the_same_question_again_within_minutes_offers_a_person(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    await _asked(redis_client, "first", 120)
    again = await _asked(redis_client, "again", 0)
    decision = await manager.after(again, TRACKING)
    assert decision.offer and decision.reason == "human" and not await manager.store.active()
    told = manager.delivery.senders["web"].told
    await manager.offer(again, TRACKING)
    assert [b.payload for b in told[-1].buttons] == ["/request_human", "/deny"]
    assert told[-1].text == t("handoff.human", "en")


async def test_a_safety_report_in_a_waiting_handoff_raises_it_to_urgent_safety(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    """Field note 11: a person-request waits in the queue; the customer then reports a burn. The ticket takes the
    worst turn's reason, jumps the queue, goes to the safety team, and the customer gets the urgent guidance."""
    asked = InboundMessage(channel="web", sender="v7", conversation_id="visitor:v7", text="转人工",
                           message_id="m1")
    assert await Inbox(redis_client, shards=2).submit(asked)
    await manager.open(asked, Decision("handoff", "human", "normal", "test"), {})
    earlier = InboundMessage(channel="web", sender="v8", conversation_id="visitor:v8", text="我要投诉", message_id="m2")
    await manager.open(earlier, Decision("handoff", "complaint", "high", "test"), {})
    (held,) = [h for h in await manager.store.active() if h.conversation_id == "visitor:v7"]
    told = manager.delivery.senders["web"].told
    before = len(told)

    report = InboundMessage(channel="web", sender="v7", conversation_id="visitor:v7",
                            text="充电宝充电时冒烟了，孩子的手被烫伤了", message_id="m3")
    assert await manager.before(report)

    raised = await manager.store.get(held.ticket_id)
    assert (raised.reason, raised.priority, raised.team) == ("safety", "urgent", "safety")
    assert (await manager.store.position(held.ticket_id)) == 1  # ahead of the earlier complaint
    ticket = await manager.tickets.get(held.ticket_id)
    assert (ticket.reason, ticket.priority) == ("safety", "urgent")
    assert [m.text for m in told[before:]] == [t("takeover.safety_guidance", "zh")]


async def test_a_routine_message_in_a_held_conversation_changes_nothing(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    asked = InboundMessage(channel="web", sender="v9", conversation_id="visitor:v9", text="I want to complain",
                           message_id="m1")
    await manager.open(asked, Decision("handoff", "complaint", "high", "test"), {})
    (held,) = await manager.store.active()
    assert await manager.before(InboundMessage(channel="web", sender="v9", conversation_id="visitor:v9",
                                               text="I also need a human to call me", message_id="m2"))
    assert (await manager.store.get(held.ticket_id)).reason == "complaint"  # a lesser reason never lowers it


@pytest.mark.parametrize("classifier, read", [(object(), ["我要投诉快递员"]), (None, [])])
async def test_a_turn_is_read_for_the_classifier_while_rasa_answers_it(
    redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, classifier: object, read: list[str],
) -> None:
    """On the reader thread the decision after Rasa queues on, so it finds the turn read (without a classifier
    there is nothing to read)."""
    from kefu.handoff import encoder
    from kefu.handoff import manager as manager_module
    from kefu.handoff.decision import HandoffPolicy
    from kefu.handoff.detector import default_detector

    embedded: list[str] = []
    monkeypatch.setattr(encoder, "embed", embedded.extend)
    delivery, _ = recording_delivery(redis_client)
    policy = HandoffPolicy(default_detector(), {}, classifier)  # type: ignore[arg-type]
    manager = HandoffManager(redis_client, None, DemoOrderBackend(redis_client), HandoffSettings(),  # type: ignore[arg-type]
                             delivery, policy=policy)
    manager.read_ahead(InboundMessage(channel="web", sender="v1", conversation_id="visitor:v1", text="我要投诉快递员"))
    manager_module._READER.submit(lambda: None).result(timeout=5)  # what was queued before it has run
    assert embedded == read


async def _waiting(manager: HandoffManager, reason: str, sender: str) -> str:
    asked = InboundMessage(channel="web", sender=sender, conversation_id=f"visitor:{sender}", text="转人工",
                           message_id=f"{sender}-ask")
    await manager.open(asked, Decision("handoff", reason, "normal" if reason == "human" else "high", "test"), {})
    (held,) = [h for h in await manager.store.active() if h.conversation_id == f"visitor:{sender}"]
    return held.ticket_id


def _said(sender: str, text: str) -> InboundMessage:
    return InboundMessage(channel="web", sender=sender, conversation_id=f"visitor:{sender}", text=text,
                          message_id=f"{sender}-{len(text)}")


async def test_a_request_for_a_person_taken_back_while_queued_returns_to_the_bot(manager: HandoffManager) -> None:
    ticket = await _waiting(manager, "human", "w1")
    told = manager.delivery.senders["web"].told
    assert not await manager.before(_said("w1", "算了，不用转人工了"))  # the bot answers again
    finished = await manager.store.get(ticket)
    assert (finished.status, finished.resolution) == ("returned", "withdrawn")
    assert await manager.store.holding("visitor:w1") is None
    assert told[-1].text == t("takeover.withdrawn", "zh", ticket=ticket)


@pytest.mark.parametrize("reason, text", [
    ("complaint", "never mind"),  # a complaint is for a person to settle
    ("safety", "算了 不用了"),
    ("human", "forget it, this is useless"),  # frustration is not taking it back
    ("human", "算了，你们这服务我不指望了"),
    ("human", "no need to rush, I'll wait"),
])
async def test_what_is_not_taken_back(manager: HandoffManager, reason: str, text: str) -> None:
    ticket = await _waiting(manager, reason, "w2")
    assert await manager.before(_said("w2", text))
    assert (await manager.store.get(ticket)).status == "waiting"


async def test_a_request_an_agent_claimed_is_not_withdrawn(manager: HandoffManager) -> None:
    ticket = await _waiting(manager, "human", "w3")
    await manager.claim(ticket, "alice", "Alice")
    assert await manager.before(_said("w3", "never mind, I found it"))
    assert (await manager.store.get(ticket)).status == "assigned"
