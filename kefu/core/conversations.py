"""The conversation record: one per customer (or anonymous visitor), kept in Redis across channels."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from kefu.config.retention import RetentionSettings
from kefu.core import keys
from kefu.core.messages import InboundMessage, OutboundMessage

# A merged conversation points at the one that holds its history now (``merged_into`` in its record);
# that one is never merged itself, so following the pointer takes one step. The bound is a guard only.
MAX_MERGE_HOPS = 4

# A reply joins the transcript of a conversation that has not been merged; 0 sends the caller to _MERGE,
# so a reply that races with a merge can never land behind it, in a history nobody reads any more.
# KEYS: 1 the conversation's record, 2 its transcript, 3 the reply's state; ARGV: 1 the entry, 2 its time, 3 how
# long the reply's state is kept. Returns 2 when this reply id was kept before (a replayed delivery: nothing
# written), 0 when the conversation was merged (the caller appends to the merged one), else 1.
_APPEND = """
if not redis.call('SET', KEYS[3], 'kept', 'NX', 'EX', ARGV[3]) then return 2 end
if redis.call('HGET', KEYS[1], 'merged_into') then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
return 1
"""
REPLY_STATE_TTL_S = 86400
"""How long a reply's kept/sent state is remembered: far longer than any replay of the entry that made it."""

# Move one conversation's history into another, atomically: nothing written to either side can slip between
# reading and rewriting. KEYS: 1 source record, 2 target record, 3/4 source/target understanding, 5/6
# source/target undelivered flags, then pairs of time-ordered lists (source, target): the transcript first,
# then whatever else follows the history (agents' notes). ARGV: 1 target id, 2 customer id or '', 3 now,
# 4 a transcript entry to append after the merge or '', 5 its time.
# Entries are merged by their "ts" (ties keep their order, the target's first) and moved, not copied: the
# source lists are deleted, so running it again moves only what arrived since, and an entry already in the
# target (byte for byte) is never added twice. Returns how many list entries moved, or -1 (nothing done)
# when the source was merged into a different conversation before.
_MERGE = """
local into = redis.call('HGET', KEYS[1], 'merged_into')
if into and into ~= ARGV[1] then return -1 end
local function ts_of(raw)
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' then return tonumber(entry['ts']) or 0 end
  return 0
end
local moved = 0
for pair = 7, #KEYS, 2 do
  local source, target = KEYS[pair], KEYS[pair + 1]
  local incoming = redis.call('LRANGE', source, 0, -1)
  if #incoming > 0 then
    local present = redis.call('LRANGE', target, 0, -1)
    local seen, rows = {}, {}
    for i, raw in ipairs(present) do
      seen[raw] = true
      rows[#rows + 1] = {raw = raw, ts = ts_of(raw), n = i}
    end
    for i, raw in ipairs(incoming) do
      if not seen[raw] then
        seen[raw] = true
        rows[#rows + 1] = {raw = raw, ts = ts_of(raw), n = #present + i}
        moved = moved + 1
      end
    end
    table.sort(rows, function(a, b)
      if a.ts ~= b.ts then return a.ts < b.ts end
      return a.n < b.n
    end)
    redis.call('DEL', target, source)
    for first = 1, #rows, 500 do
      local chunk = {}
      for i = first, math.min(first + 499, #rows) do chunk[#chunk + 1] = rows[i].raw end
      redis.call('RPUSH', target, unpack(chunk))
    end
  end
end
for pair = 3, 5, 2 do
  local flat = redis.call('HGETALL', KEYS[pair])
  for i = 1, #flat, 2 do redis.call('HSETNX', KEYS[pair + 1], flat[i], flat[i + 1]) end
  redis.call('DEL', KEYS[pair])
end
local old = redis.call('HMGET', KEYS[1], 'created_at', 'updated_at', 'lang', 'channel')
local now = redis.call('HMGET', KEYS[2], 'created_at', 'updated_at')
if old[1] and (not now[1] or tonumber(old[1]) < tonumber(now[1])) then
  redis.call('HSET', KEYS[2], 'created_at', old[1])
end
if old[2] and (not now[2] or tonumber(old[2]) > tonumber(now[2])) then
  redis.call('HSET', KEYS[2], 'updated_at', old[2])
end
if old[3] then redis.call('HSETNX', KEYS[2], 'lang', old[3]) end
if old[4] then redis.call('HSETNX', KEYS[2], 'channel', old[4]) end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], 'customer_id', ARGV[2])
  redis.call('HSET', KEYS[1], 'customer_id', ARGV[2])
end
redis.call('HSET', KEYS[1], 'merged_into', ARGV[1])
redis.call('HSETNX', KEYS[1], 'merged_at', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[8], ARGV[4])
  redis.call('HSET', KEYS[2], 'updated_at', ARGV[5])
end
return moved
"""

# One turn's understanding, kept with a TTL (refreshed by every turn) and bounded: past ``max`` entries, only the
# turns still among the transcript's last ``max`` entries (what a reader is shown) keep theirs.
# KEYS: 1 understanding hash, 2 transcript. ARGV: 1 message id, 2 JSON, 3 TTL seconds, 4 max entries.
_UNDERSTOOD = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local max = tonumber(ARGV[4])
if redis.call('HLEN', KEYS[1]) <= max then return 0 end
local keep = {[ARGV[1]] = true}
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], -max, -1)) do
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and entry['id'] ~= nil then keep[tostring(entry['id'])] = true end
end
local dropped = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not keep[field] then
    redis.call('HDEL', KEYS[1], field)
    dropped = dropped + 1
  end
end
return dropped
"""


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
    # the model's next readings (intent -> confidence, the fallback left out): a handoff reason the model
    # reads second, or under a "please rephrase", still counts as the model agreeing with the classifier
    ranking: dict[str, float] = field(default_factory=dict)

    def confidence_of(self, intent: str) -> float:
        """How sure the model is of ``intent``, whether it came first or not."""
        if intent == self.intent:
            return float(self.confidence or 0.0)
        return float(self.ranking.get(intent, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "confidence": self.confidence, "entities": self.entities,
                "ranking": self.ranking}


class ConversationStore:
    """Transcript, channel and per-turn understanding of each conversation.

    The customer's entry is written by the inbox in the same atomic step that queues the message,
    so the transcript never misses a message that was acknowledged.

    A conversation can be merged into another (a channel user's chat into their customer's conversation once
    they link it, kefu/channels/history_merge.py). Its record keeps ``merged_into``; reads and writes by its old id then
    go to the conversation it was merged into, so nobody holding the old id reads an emptied history, and a
    reply still in flight for the old id joins the merged one.
    """

    def __init__(self, redis: aioredis.Redis, retention: RetentionSettings | None = None) -> None:
        self.redis = redis
        self.retention = retention or RetentionSettings()
        self._append = redis.register_script(_APPEND)
        self._merge = redis.register_script(_MERGE)
        self._understood = redis.register_script(_UNDERSTOOD)

    async def live_id(self, conversation_id: str) -> str:
        """The conversation whose history this id's history is part of now: itself unless it was merged."""
        for _ in range(MAX_MERGE_HOPS):
            into = await self.redis.hget(keys.conversation(conversation_id), "merged_into")
            if not into:
                break
            conversation_id = into
        return conversation_id

    async def add_reply(self, reply: OutboundMessage, channel: str) -> bool:
        """Keep the reply in the transcript; False when this reply id was kept before (nothing is written)."""
        entry = json.dumps(reply.to_dict() | {"channel": channel}, ensure_ascii=False)
        source = reply.conversation_id
        kept = await self._append(keys=[keys.conversation(source), keys.transcript(source),
                                        keys.reply_state(reply.message_id)],
                                  args=[entry, reply.sent_at, REPLY_STATE_TTL_S])
        if kept == 2:
            return False
        if kept:
            return True
        # Merged: the reply joins the merged history, sweeping in first whatever reached the old id late
        # (a customer message resolved just before the link, whose answer this may be).
        target = await self.redis.hget(keys.conversation(source), "merged_into")
        await self.merge(source, target, append=entry, append_ts=reply.sent_at)
        return True

    async def reply_sent(self, message_id: str) -> bool:
        """Whether the reply with this id went out to the channel already."""
        return await self.redis.get(keys.reply_state(message_id)) == "sent"

    async def mark_sent(self, message_id: str) -> None:
        await self.redis.set(keys.reply_state(message_id), "sent", ex=REPLY_STATE_TTL_S)

    async def merge(
        self,
        source: str,
        target: str,
        customer_id: str | None = None,
        also: Sequence[tuple[str, str]] = (),
        append: str = "",
        append_ts: float = 0.0,
    ) -> int | None:
        """Move ``source``'s history into ``target``, in time order, and leave ``merged_into`` behind.

        One Lua script, so a message stored concurrently lands wholly before the merge (and is moved) or
        wholly after it; running it again moves only what arrived since and never duplicates an entry.
        ``also`` names more (source list, target list) pairs of timestamped entries that follow the history,
        such as agents' notes. Returns how many entries moved, or None when ``source`` was merged into a
        different conversation before (nothing is done: history never moves from one customer to another).
        """
        if source == target:
            return 0
        script_keys = [
            keys.conversation(source), keys.conversation(target),
            keys.understanding(source), keys.understanding(target),
            keys.undelivered(source), keys.undelivered(target),
            keys.transcript(source), keys.transcript(target),
        ]
        for pair in also:
            script_keys.extend(pair)
        moved = await self._merge(keys=script_keys, args=[target, customer_id or "", time.time(), append, append_ts])
        return None if moved == -1 else int(moved)

    async def mark_undelivered(self, conversation_id: str, message_id: str, reason: str) -> None:
        """A reply the channel could not deliver (window closed, quota, blocked): kept, and flagged for agents."""
        await self.redis.hset(keys.undelivered(await self.live_id(conversation_id)), message_id, reason)

    async def set_understanding(self, conversation_id: str, message_id: str, understanding: Understanding) -> None:
        """Kept for agents beside the transcript, within the retention's TTL and bound (kefu/config/retention.py)."""
        live = await self.live_id(conversation_id)
        await self._understood(
            keys=[keys.understanding(live), keys.transcript(live)],
            args=[message_id, json.dumps(understanding.to_dict(), ensure_ascii=False),
                  self.retention.understanding_ttl_s, self.retention.understanding_max_turns],
        )

    async def set_language(self, conversation_id: str, lang: str) -> None:
        await self.redis.hset(keys.conversation(await self.live_id(conversation_id)), "lang", lang)

    async def record(self, conversation_id: str) -> dict[str, str]:
        """The record under this very id (not followed): a merged one shows ``merged_into``, ``merged_at``."""
        return await self.redis.hgetall(keys.conversation(conversation_id))

    async def transcript(self, conversation_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The timestamped transcript, customer turns carrying what the bot understood.

        For a merged conversation, the transcript of the conversation it was merged into.
        """
        conversation_id = await self.live_id(conversation_id)
        entries = [json.loads(raw) for raw in await self.redis.lrange(keys.transcript(conversation_id), -limit, -1)]
        if not entries:
            return entries
        # Only the fetched entries' understanding: a turn reads the last few, however long the conversation.
        ids = [entry["id"] for entry in entries]
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.understanding(conversation_id), ids)
            pipe.hmget(keys.undelivered(conversation_id), ids)
            understood, undelivered = await pipe.execute()
        for entry, understanding, reason in zip(entries, understood, undelivered, strict=True):
            if entry["role"] == "customer" and understanding is not None:
                entry["understanding"] = json.loads(understanding)
            if reason is not None:
                entry["undelivered"] = reason
        return entries
