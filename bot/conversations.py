"""The conversation record: one per customer (or anonymous visitor), kept in Redis across channels."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot.messages import InboundMessage, OutboundMessage

PREFIX = "kefu:conv:"


def transcript_key(conversation_id: str) -> str:
    return f"{PREFIX}{conversation_id}:transcript"


def understanding_key(conversation_id: str) -> str:
    return f"{PREFIX}{conversation_id}:nlu"


def undelivered_key(conversation_id: str) -> str:
    return f"{PREFIX}{conversation_id}:undelivered"


def record_key(conversation_id: str) -> str:
    return f"{PREFIX}{conversation_id}"


def customer_entry(message: InboundMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "role": "customer",
        "text": message.text,
        "ts": message.received_at,
        "channel": message.channel,
    }


@dataclass(frozen=True)
class Understanding:
    """What Rasa made of one customer turn."""

    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "confidence": self.confidence, "entities": self.entities}


class ConversationStore:
    """Transcript, channel and per-turn understanding of each conversation.

    The customer's entry is written by the inbox in the same atomic step that queues the message,
    so the transcript never misses a message that was acknowledged.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add_reply(self, reply: OutboundMessage, channel: str) -> None:
        entry = reply.to_dict() | {"channel": channel}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(transcript_key(reply.conversation_id), json.dumps(entry, ensure_ascii=False))
            pipe.hset(record_key(reply.conversation_id), "updated_at", reply.sent_at)
            await pipe.execute()

    async def mark_undelivered(self, conversation_id: str, message_id: str, reason: str) -> None:
        """A reply the channel could not deliver (window closed, quota, blocked): kept, and flagged for agents."""
        await self.redis.hset(undelivered_key(conversation_id), message_id, reason)

    async def set_understanding(self, conversation_id: str, message_id: str, understanding: Understanding) -> None:
        await self.redis.hset(
            understanding_key(conversation_id), message_id, json.dumps(understanding.to_dict(), ensure_ascii=False)
        )

    async def set_language(self, conversation_id: str, lang: str) -> None:
        await self.redis.hset(record_key(conversation_id), "lang", lang)

    async def record(self, conversation_id: str) -> dict[str, str]:
        return await self.redis.hgetall(record_key(conversation_id))

    async def transcript(self, conversation_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The timestamped transcript, customer turns carrying what the bot understood."""
        raw_entries = await self.redis.lrange(transcript_key(conversation_id), -limit, -1)
        understood = await self.redis.hgetall(understanding_key(conversation_id))
        undelivered = await self.redis.hgetall(undelivered_key(conversation_id))
        entries = []
        for raw in raw_entries:
            entry = json.loads(raw)
            if entry["role"] == "customer" and entry["id"] in understood:
                entry["understanding"] = json.loads(understood[entry["id"]])
            if entry["id"] in undelivered:
                entry["undelivered"] = undelivered[entry["id"]]
            entries.append(entry)
        return entries
