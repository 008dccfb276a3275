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
from kefu.eval.bitext import read_bitext
from kefu.eval.handoff_measure import read_conversations
from kefu.eval.hint3 import ORDER_TOPICS, read_hint3
from kefu.eval.jddc import is_jddc, read_jddc
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
    error: str | None = None  # a case that could not be played is scored as wrong on every label

    def prediction(self) -> dict[str, Any]:
        reason = self.reason
        return {
            "id": self.id,
            "route": "handoff" if reason else "bot",
            "reason": reason,
            "topics": [topic_of(intent) for intent in self.intents],
            "intents": self.intents,
            "replies": self.replies,
        } | ({"error": self.error} if self.error else {})


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
            try:
                turn = await asyncio.wait_for(done, TURN_TIMEOUT_S)
            except TimeoutError:  # written as failed; the other cases go on
                self.waiting.pop(message.message_id, None)
                result.error = f"timeout after {TURN_TIMEOUT_S} s on turn {len(result.intents) + 1}"
                break
            result.intents.append(turn.understanding.intent)
        result.replies = self.channel.replies.pop(conversation_id, [])
        assert self.handoffs is not None
        held = await self.handoffs.holding(conversation_id)
        result.reason = held.reason if held else None
        return result.prediction()


def read_cases(path: Path) -> list[dict[str, Any]]:
    """Every format of ../shared/eval: Kefu's JSONL cases, JDDC sessions (JSONL with ``turn_labels``), a
    HINT3 CSV (``sentence,label``) or a Bitext CSV (``sentence,intent,category``), labels mapped to Kefu's; and
    Kefu's own held-out handoff sets (YAML, tests/fixtures/handoff_heldout*.yml)."""
    if path.suffix in (".yml", ".yaml"):
        return [{"id": case.id, "lang": case.lang, "turns": list(case.turns),
                 "route": "handoff" if case.reason else "bot", "reason": case.reason}
                for case in read_conversations(path)]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as handle:
            header = handle.readline()
        return read_bitext(path) if "intent" in header.split(",") else read_hint3(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and is_jddc(lines[0]):
        return read_jddc(lines)
    return [json.loads(line) for line in lines if line.strip()]


# What the bot says only when it really transferred the customer (field note 4: no promise without the act).
TRANSFER_WORDS = ("转接", "transferring you", "passing you to")


def score(cases: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Right and total per label the cases carry; a topic is right when any turn had it, a per-turn
    expectation (JDDC) on that turn; a failed case (``error``) is wrong on every label it carries."""
    counts: dict[str, list[int]] = {}

    def tally(label: str, right: bool) -> None:
        counts.setdefault(label, [0, 0])
        counts[label][0] += right
        counts[label][1] += 1

    for case, predicted in zip(cases, predictions, strict=True):
        failed = "error" in predicted
        for label in ("route", "reason"):
            if label in case:
                tally(label, not failed and case[label] == predicted[label])
        wanted = [case["topic"]] if case.get("topic") else case.get("topic_any", [])
        if wanted:
            tally("topic", not failed and any(topic in predicted["topics"] for topic in wanted))
        if case.get("kept_off_orders"):
            tally("kept_off_orders", not failed and predicted["route"] == "bot"
                  and not ORDER_TOPICS & set(predicted["topics"]))
        for number, expected in enumerate(case.get("turn_expect") or []):
            if expected is None:
                continue
            topic = predicted["topics"][number] if number < len(predicted["topics"]) else None
            if "topic_any" in expected:
                tally("turn_topic", not failed and topic in expected["topic_any"])
            else:
                tally("turn_kept_off_orders", not failed and topic not in ORDER_TOPICS)
        if predicted.get("route") == "bot" and not failed:
            said = " ".join(predicted.get("replies") or []).lower()
            tally("no_false_transfer", not any(word in said for word in TRANSFER_WORDS))
    return {label: (right, total) for label, (right, total) in counts.items()}


def report(scores: dict[str, tuple[int, int]]) -> str:
    lines = [f"{'label':<16} {'right':>6} {'total':>6} {'accuracy':>9}"]
    for label, (right, total) in scores.items():
        lines.append(f"{label:<16} {right:>6} {total:>6} {right / total:>9.1%}")
    return "\n".join(lines)
