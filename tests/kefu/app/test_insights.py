"""What a process records as conversations happen: exchanges and their end (a pipeline observer), every message
in, and finished handoffs and closed bot exchanges drawn into the QA queue."""
from __future__ import annotations

import dataclasses
import random

import redis.asyncio as aioredis

from kefu.app.insights import Insights, counted
from kefu.app.services import Services
from kefu.config.service_levels import ServiceLevels
from kefu.core import metrics
from kefu.core.conversations import Understanding
from kefu.core.messages import InboundMessage
from kefu.core.reviews import QAQueue
from kefu.core.visits import Visits
from kefu.dialogue.rasa_client import RasaTurn
from kefu.handoff.decision import STAY, Decision
from kefu.handoff.state import Handoff
from kefu.pipeline.outage import BOT_AGENT
from tests.kefu.console.test_dashboard import gateway_settings


def turn(intent: str, confidence: float = 0.95) -> RasaTurn:
    return RasaTurn(replies=[], understanding=Understanding(intent=intent, confidence=confidence, entities=[]))


def message(text: str, at: float) -> InboundMessage:
    return InboundMessage("web", "v1", "cust:c9", text, received_at=at)


async def insights(redis_url: str, share: float) -> Insights:
    settings = dataclasses.replace(gateway_settings(redis_url), service_levels=ServiceLevels(qa_share=share))
    return Insights(Services.build(settings, senders={}), random.Random(4))


async def test_an_exchange_the_customer_closes_is_drawn_for_review(redis_url: str,
                                                                   redis_client: aioredis.Redis) -> None:
    recorder = await insights(redis_url, 1.0)
    await recorder.turn(message("where is my order", 1000.0), turn("order_status"), STAY)
    await recorder.turn(message("thanks!", 1030.0), turn("thank"), STAY)
    await recorder.turn(message("one more thing", 1100.0), turn("order_status"), STAY)  # a new exchange
    visits = await Visits(redis_client).between(0, 2000)
    assert [(v.started_at, v.ended, v.handoff) for v in visits] == [(1000.0, True, False), (1100.0, False, False)]
    (item,) = await QAQueue(redis_client, 1.0).waiting()
    assert (item.kind, item.agent, item.conversation_id, item.started_at) == ("bot", "bot", "cust:c9", 1000.0)


async def test_a_handed_off_exchange_is_not_a_bot_one(redis_url: str, redis_client: aioredis.Redis) -> None:
    recorder = await insights(redis_url, 1.0)
    before = metrics.HANDOFFS.labels("complaint")._value.get()
    await recorder.turn(message("I want to complain", 1000.0), turn("complaint"),
                        Decision("handoff", "complaint", "high", "lexicon", "complain"))
    await recorder.turn(message("thanks", 1010.0), turn("thank", 0.3), STAY)  # unsure: not a close
    (visit,) = await Visits(redis_client).between(0, 2000)
    assert visit.handoff and not visit.bot_resolved and not visit.ended
    assert metrics.HANDOFFS.labels("complaint")._value.get() == before + 1
    assert await QAQueue(redis_client, 1.0).waiting() == []


async def test_finished_handoffs_are_sampled_at_the_configured_share(redis_url: str,
                                                                     redis_client: aioredis.Redis) -> None:
    recorder = await insights(redis_url, 0.05)
    for n in range(400):
        await recorder.finished(Handoff(f"T-{n:06d}", f"cust:c{n}", "", "wechat", "zh", "complaint", "high", "m",
                                        "t", 1000.0, status="closed", agent="ann"))
    rng = random.Random(4)
    expected = sum(rng.random() < 0.05 for _ in range(400))
    waiting = await QAQueue(redis_client, 0.05).waiting(limit=400)
    assert len(waiting) == expected and 8 <= expected <= 35
    assert {(i.kind, i.agent, i.channel) for i in waiting} == {("agent", "ann", "wechat")}


async def test_a_ticket_the_bot_took_back_after_an_outage_is_not_reviewed(redis_url: str,
                                                                        redis_client: aioredis.Redis) -> None:
    recorder = await insights(redis_url, 1.0)
    await recorder.finished(Handoff("T-000001", "cust:c1", "", "web", "en", "bot_unavailable", "normal", "m", "t",
                                    1000.0, status="closed", agent=BOT_AGENT))
    await recorder.finished(Handoff("T-000002", "cust:c2", "", "web", "en", "complaint", "high", "m", "t",
                                    1000.0, status="closed", agent="ann"))
    assert [item.agent for item in await QAQueue(redis_client, 1.0).waiting()] == ["ann"]


async def test_every_processed_message_is_counted_in() -> None:
    seen = []

    async def hook(inbound: InboundMessage, answered: RasaTurn) -> None:
        seen.append(inbound.text)

    before = metrics.MESSAGES_IN.labels("telegram")._value.get()
    inbound = InboundMessage("telegram", "u", "c", "hi")
    await counted(hook)(inbound, turn("greet"))
    await counted(None)(inbound, turn("greet"))
    assert metrics.MESSAGES_IN.labels("telegram")._value.get() == before + 2 and seen == ["hi"]
