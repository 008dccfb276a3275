"""A day of service, written through the real stores on a controlled clock, and the dashboard numbers it must
give: exchanges on three channels, four handoffs (opened, claimed, answered, closed by the real manager),
ratings, and follow-ups kept and missed.

The day is two days ago in the shop's time zone, so nothing in it depends on the hour the test runs.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import aiohttp
import redis.asyncio as aioredis

from kefu.config.shop import DEFAULT_TIMEZONE
from kefu.core.messages import InboundMessage
from kefu.core.ratings import Rating, RatingStore
from kefu.core.visits import Visits
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.decision import PRIORITIES, Decision
from kefu.handoff.manager import HandoffManager
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.delivery import recording_delivery
from tests.helpers.settings import ALWAYS_OPEN

TZ = ZoneInfo(DEFAULT_TIMEZONE)

TEXTS = {
    "en": {"safety": "smoke came out of the power bank and it burned my son's hand",
           "delivery": "your courier threw my parcel over the fence, I want to complain",
           "human": "can I talk to a real person please",
           "quality": "the mug arrived cracked, terrible quality, I want to complain",
           "chat": "where is my order", "thanks": "thanks, that's all"},
    "zh": {"safety": "充电宝充电时冒烟了,还烫伤了孩子的手",
           "delivery": "快递员把包裹直接扔进院子里,我要投诉",
           "human": "请帮我转人工客服",
           "quality": "收到的杯子是碎的,质量太差,我要投诉",
           "chat": "我的订单到哪了", "thanks": "好的谢谢"},
}


@dataclass(frozen=True)
class Seeded:
    day: date
    expected: dict[str, Any]

    @property
    def query(self) -> str:
        """The range around the seeded day, as the dashboard's query string."""
        return f"from={(self.day - timedelta(days=1)).isoformat()}&to={(self.day + timedelta(days=1)).isoformat()}"


@contextlib.contextmanager
def clock(at: float) -> Iterator[None]:
    """``time.time()`` says ``at`` meanwhile: the stores stamp records with it, as they would have then."""
    with mock.patch("time.time", return_value=at):
        yield


def _at(day: date, hour: int, minute: int, second: int = 0) -> float:
    return datetime.combine(day, time(hour, minute, second), tzinfo=TZ).timestamp()


async def seed_dashboard(redis: aioredis.Redis, lang: str = "en") -> Seeded:
    day = datetime.now(TZ).date() - timedelta(days=2)
    words = TEXTS[lang]
    visits = Visits(redis)
    # (channel, hour, minute, handoff, ended by the customer's thanks)
    for n, (channel, hour, minute, handoff, ended) in enumerate([
        ("web", 10, 5, False, True), ("web", 10, 40, False, False), ("web", 11, 15, True, False),
        ("wechat", 14, 20, False, True), ("wechat", 14, 50, True, False), ("wechat", 20, 10, True, False),
        ("telegram", 20, 30, False, False), ("web", 21, 0, True, False),
    ]):
        at = _at(day, hour, minute)
        await visits.turn(f"cust:seed{n}", channel, at)
        await visits.turn(f"cust:seed{n}", channel, at + 20, handoff=handoff, ended=ended)

    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        delivery, _ = recording_delivery(redis)
        manager = HandoffManager(redis, rasa, DemoOrderBackend(redis), ALWAYS_OPEN, delivery, http=http)

        async def opened(n: int, channel: str, hour: int, minute: int, reason: str, text: str) -> tuple[str, float]:
            at = _at(day, hour, minute)
            message = InboundMessage(channel=channel, sender=f"seed{n}", conversation_id=f"cust:seed{n}", text=text,
                                     customer_id=f"seed{n}", received_at=at)
            with clock(at):
                await manager.open(message, Decision("handoff", reason, PRIORITIES[reason], "lexicon", text),
                                   {"lang": lang})
            handoff = await manager.store.holding(f"cust:seed{n}")
            assert handoff is not None
            return handoff.ticket_id, at

        async def step(at: float, action: Any) -> None:
            with clock(at):
                await action

        # urgent: claimed after 30 s, answered after 45 s (target 60: within), closed
        h1, t1 = await opened(2, "web", 11, 15, "safety", words["safety"])
        await step(t1 + 30, manager.claim(h1, "ann", "Ann"))
        await step(t1 + 45, manager.reply(h1, "ann", "hello"))
        await step(t1 + 600, manager.close(h1, "ann", "resolved"))
        # high: claimed after 2 min, answered after 400 s (target 300: breached); a follow-up kept in time
        h2, t2 = await opened(4, "wechat", 14, 50, "complaint", words["delivery"])
        await step(t2 + 120, manager.claim(h2, "bob", "Bob"))
        await step(t2 + 300, manager.promise_followup(h2, "bob", _at(day, 16, 0), "call back"))
        await step(t2 + 400, manager.reply(h2, "bob", "sorry"))
        await step(t2 + 600, manager.followup_kept(h2, "bob"))
        await step(t2 + 900, manager.close(h2, "bob", "compensated"))
        # normal: claimed after 10 min, answered after 700 s (target 900: within); handed back after its
        # follow-up was due (missed)
        h3, t3 = await opened(5, "wechat", 20, 10, "human", words["human"])
        await step(t3 + 600, manager.claim(h3, "ann", "Ann"))
        await step(t3 + 650, manager.promise_followup(h3, "ann", _at(day, 20, 40), "send the invoice"))
        await step(t3 + 700, manager.reply(h3, "ann", "here I am"))
        await step(t3 + 2400, manager.hand_back(h3, "ann"))
        # high, never claimed: unanswered past its target (breached), its follow-up never kept (missed)
        h4, t4 = await opened(7, "web", 21, 0, "complaint", words["quality"])
        await step(t4 + 60, manager.followups.promise(h4, _at(day, 21, 30), "first contact", "system"))

    ratings = RatingStore(redis)
    for conversation, ticket, score, by, channel, at in [
        ("cust:seed0", "", 5, "bot", "web", _at(day, 10, 7)), ("cust:seed3", "", 4, "bot", "wechat", _at(day, 14, 22)),
        ("cust:seed2", h1, 4, "ann", "web", t1 + 700), ("cust:seed4", h2, 2, "bob", "wechat", t2 + 1000),
    ]:
        await ratings.record(Rating(conversation, ticket, score, "", by, channel, at))

    hours = {"web": {10: 2, 11: 1, 21: 1}, "wechat": {14: 2, 20: 1}, "telegram": {20: 1}}
    expected = {
        "conversations": {"total": 8, "by_channel": {channel: [counts.get(h, 0) for h in range(24)]
                                                      for channel, counts in sorted(hours.items())}},
        "bot": {"visits": 8, "bot_resolved": 4, "handed_off": 4, "ended_by_customer": 2, "rate": 0.5},
        "handoffs": {"total": 4, "by_reason": {"safety": 1, "complaint": 2, "human": 1}},
        "waiting": {"urgent": {"claimed": 1, "p50_s": 30.0, "p90_s": 30.0, "still_waiting": 0},
                    "high": {"claimed": 1, "p50_s": 120.0, "p90_s": 120.0, "still_waiting": 1},
                    "normal": {"claimed": 1, "p50_s": 600.0, "p90_s": 600.0, "still_waiting": 0}},
        "sla": {"urgent": {"target_s": 60, "handoffs": 1, "within": 1, "breached": 0, "unanswered": 0, "rate": 1.0},
                "high": {"target_s": 300, "handoffs": 2, "within": 0, "breached": 2, "unanswered": 1, "rate": 0.0},
                "normal": {"target_s": 900, "handoffs": 1, "within": 1, "breached": 0, "unanswered": 0,
                           "rate": 1.0}},
        "csat": {"bot": {"count": 2, "average": 4.5, "scores": [0, 0, 0, 1, 1]},
                 "agents": {"count": 2, "average": 3.0, "scores": [0, 1, 0, 1, 0]},
                 "by_agent": {"ann": {"count": 1, "average": 4.0, "scores": [0, 0, 0, 1, 0]},
                              "bob": {"count": 1, "average": 2.0, "scores": [0, 1, 0, 0, 0]}}},
        "followups": {"kept": 1, "missed": 2, "pending": 0},
        "categories": [{"category": "burn", "count": 1}, {"category": "delivery", "count": 1},
                       {"category": "product_quality", "count": 1}],
    }
    return Seeded(day, expected)
