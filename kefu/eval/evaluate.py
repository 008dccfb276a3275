"""``python -m kefu eval``: play labelled conversations through the live pipeline and score them."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kefu.app.services import Services
from kefu.channels.base import ChannelSender
from kefu.config.settings import Settings
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.dialogue.rasa_client import RasaTurn
from kefu.eval.hint3 import ORDER_TOPICS, read_hint3
from kefu.eval.topics import topic_of
from kefu.handoff.state import HandoffStore

TURN_TIMEOUT_S = 120


class CollectingSender(ChannelSender):
    """The eval's channel: replies are kept per conversation instead of being sent anywhere."""

    name = "eval"

    def __init__(self) -> None:
        self.replies: dict[str, list[str]] = {}

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        self.replies.setdefault(conversation_id, []).append(message.text)


@dataclass
class CaseResult:
    id: str
    intents: list[str | None] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    # The reason of the handoff the real handoff policy opened (kefu/handoff), None when the bot kept it.
    reason: str | None = None

    def prediction(self) -> dict[str, Any]:
        reason = self.reason
        return {
            "id": self.id,
            "route": "handoff" if reason else "bot",
            "reason": reason,
            "topics": [topic_of(intent) for intent in self.intents],
            "intents": self.intents,
            "replies": self.replies,
        }


class Evaluator:
    """Feeds each case's turns into the inbox, as a channel would, and waits for the pipeline's answer."""

    def __init__(self, settings: Settings, customer_id: str | None, concurrency: int = 4) -> None:
        self.settings = settings
        self.customer_id = customer_id
        self.concurrency = concurrency
        self.channel = CollectingSender()
        self.waiting: dict[str, asyncio.Future[RasaTurn]] = {}
        self.handoffs: HandoffStore | None = None

    async def _processed(self, message: InboundMessage, turn: RasaTurn) -> None:
        future = self.waiting.pop(message.message_id, None)
        if future is not None and not future.done():
            future.set_result(turn)

    async def run(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        services = Services.build(self.settings, senders={self.channel.name: self.channel})
        async with services.running():
            self.handoffs = services.handoff.store
            pipeline = services.pipeline(on_processed=self._processed)
            inbox = services.inbox
            await inbox.ensure_groups()
            worker = asyncio.create_task(pipeline.run())
            limit = asyncio.Semaphore(self.concurrency)
            run_id = uuid.uuid4().hex[:8]

            async def play(case: dict[str, Any]) -> dict[str, Any]:
                async with limit:
                    return await self._play(inbox, f"eval:{run_id}:{case['id']}", case)

            try:
                results = await asyncio.gather(*(play(case) for case in cases))
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
        return results

    async def _play(self, inbox: Inbox, conversation_id: str, case: dict[str, Any]) -> dict[str, Any]:
        result = CaseResult(id=str(case["id"]))
        loop = asyncio.get_running_loop()
        for text in case["turns"]:
            message = InboundMessage(channel=self.channel.name, sender=conversation_id,
                                     conversation_id=conversation_id, text=text, customer_id=self.customer_id)
            done = self.waiting[message.message_id] = loop.create_future()
            await inbox.submit(message)
            turn = await asyncio.wait_for(done, TURN_TIMEOUT_S)
            result.intents.append(turn.understanding.intent)
        result.replies = self.channel.replies.pop(conversation_id, [])
        assert self.handoffs is not None
        held = await self.handoffs.holding(conversation_id)
        result.reason = held.reason if held else None
        return result.prediction()


def read_cases(path: Path) -> list[dict[str, Any]]:
    """JSONL cases, or a HINT3 CSV (sentence,label) mapped to Kefu's labels (kefu/eval/hint3.py)."""
    if path.suffix == ".csv":
        return read_hint3(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(cases: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Right and total per label the cases carry; a topic is right when any turn had it."""
    counts: dict[str, list[int]] = {}
    for case, predicted in zip(cases, predictions, strict=True):
        for label in ("route", "reason"):
            if label in case:
                tally = counts.setdefault(label, [0, 0])
                tally[0] += case[label] == predicted[label]
                tally[1] += 1
        wanted = [case["topic"]] if case.get("topic") else case.get("topic_any", [])
        if wanted:
            tally = counts.setdefault("topic", [0, 0])
            tally[0] += any(topic in predicted["topics"] for topic in wanted)
            tally[1] += 1
        if case.get("kept_off_orders"):
            tally = counts.setdefault("kept_off_orders", [0, 0])
            tally[0] += predicted["route"] == "bot" and not ORDER_TOPICS & set(predicted["topics"])
            tally[1] += 1
    return {label: (right, total) for label, (right, total) in counts.items()}


def report(scores: dict[str, tuple[int, int]]) -> str:
    lines = [f"{'label':<16} {'right':>6} {'total':>6} {'accuracy':>9}"]
    for label, (right, total) in scores.items():
        lines.append(f"{label:<16} {right:>6} {total:>6} {right / total:>9.1%}")
    return "\n".join(lines)
