"""Fixtures for the action tests: demo data seeded in the real test Redis, and a conversation driver."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.actions import KefuAction
from kefu.config.settings import PROJECT_ROOT
from kefu.config.shop import ShopSettings
from kefu.core.tickets import TicketStore
from kefu.orders.demo import DemoOrderBackend, seed_demo

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)

def _regex_entities() -> dict[str, re.Pattern[str]]:
    """The patterns of data/nlu/regex.yml, so the tests see the entities Rasa's RegexEntityExtractor gives."""
    nlu = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "regex.yml").read_text(encoding="utf-8"))["nlu"]
    return {
        block["regex"]: re.compile("|".join(line[2:] for line in block["examples"].splitlines() if line.strip()),
                                   re.IGNORECASE)
        for block in nlu
    }


def _rules() -> dict[str, str]:
    """intent -> action, read from data/rules.yml (what Rasa is trained on), so the tests cannot drift from it."""
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    table: dict[str, str] = {}
    for rule in rules:
        intents: list[str] = []
        for step in rule["steps"]:
            if "action" in step:
                table |= dict.fromkeys(intents, step["action"])
                intents = []
            else:
                intents += [choice["intent"] for choice in step.get("or", [step])]
    return table


ENTITY_PATTERNS = _regex_entities()
RULES = _rules()
ACTIONS: dict[str, type[KefuAction]] = {cls().name(): cls for cls in KefuAction.__subclasses__()}


def entities_in(text: str) -> list[dict[str, Any]]:
    found = []
    for name, pattern in ENTITY_PATTERNS.items():
        for match in pattern.finditer(text):
            found.append({"entity": name, "value": match.group(0), "start": match.start(), "end": match.end()})
    return found


@pytest.fixture
async def services(redis_client: aioredis.Redis) -> AsyncIterator[runtime.Services]:
    """Seeded demo services at a fixed clock, installed as the action server's own."""
    await seed_demo(redis_client, now=NOW)
    settings = runtime.ActionServerSettings(redis_url="unused", shop=ShopSettings(return_address="上海市退货中心 1 号"))
    installed = runtime.Services(settings=settings, redis=redis_client,
                                 backend=DemoOrderBackend(redis_client, clock=lambda: NOW),
                                 tickets=TicketStore(redis_client), clock=lambda: NOW)
    runtime.install(installed)
    yield installed
    runtime.install(None)


@dataclass
class Turn:
    texts: list[str]
    buttons: list[list[dict[str, Any]]]
    events: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@dataclass
class Conversation:
    """Drives actions turn by turn like Rasa does: one action per user message, slots carried over."""

    customer_id: str | None = None
    channel: str = "web"
    conversation_id: str = "conv-test"
    slots: dict[str, Any] = field(default_factory=dict)

    async def say(self, text: str, intent: str, action: str | None = None,
                  entities: list[dict[str, Any]] | None = None, metadata: dict[str, Any] | None = None) -> Turn:
        """``metadata`` adds to what the pipeline sends (e.g. the message's ``idempotency_key``)."""
        action_name = action or RULES[intent]
        tracker = Tracker(
            sender_id=self.conversation_id, slots=dict(self.slots),
            latest_message={
                "text": text, "intent": {"name": intent, "confidence": 0.9},
                "entities": entities_in(text) if entities is None else entities,
                "metadata": {"customer_id": self.customer_id, "channel": self.channel,
                             "conversation_id": self.conversation_id} | (metadata or {}),
            },
            events=[], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
        )
        dispatcher = CollectingDispatcher()
        events = await ACTIONS[action_name]().run(dispatcher, tracker, {})
        for event in events:
            assert event["event"] == "slot"
            self.slots[event["name"]] = event["value"]
        return Turn([m["text"] for m in dispatcher.messages], [m.get("buttons") or [] for m in dispatcher.messages],
                    events)
