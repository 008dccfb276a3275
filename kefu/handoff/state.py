"""Typed handoff state in Redis: who holds which conversation, the priority queue, atomic claims, presence."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.handoff.decision import PRIORITY_RANK

PRESENCE_TTL_S = 90
# Handoff lifecycle: waiting (in the queue) -> assigned (an agent holds it) -> closed | returned (to the bot).
ACTIVE = ("waiting", "assigned")
# Where an active handoff stands in the agents' inbox: open (someone must act), pending (waiting for the
# customer's answer) or snoozed (out of sight until ``snoozed_until``); a finished one is "resolved".
INBOX_STATES = ("open", "pending", "snoozed")
INBOX_VIEWS = (*INBOX_STATES, "resolved")


def queue_score(priority: str, created_at: float) -> float:
    """Priority first, then waiting time: urgent items always sort before high, high before normal."""
    return PRIORITY_RANK.get(priority, 9) * 1e13 + created_at * 1000


# Claim only what is still waiting: ZREM is the single point two agents race on.
_CLAIM = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'status', 'assigned', 'agent', ARGV[2], 'claimed_at', ARGV[3])
return 1
"""
# Close or hand back only an active handoff, once; the conversation is the bot's again.
_FINISH = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'waiting' and status ~= 'assigned' then return 0 end
if ARGV[4] ~= '' and status == 'assigned' and redis.call('HGET', KEYS[1], 'agent') ~= ARGV[4] then return -1 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], 'resolution', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[5])
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
return 1
"""


# Back into the queue for a team (a transfer to a team): only an active handoff, only by its holder unless ARGV[3]
# is empty (a supervisor); the conversation stays held by people.
_REQUEUE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'waiting' and status ~= 'assigned' then return 0 end
if ARGV[3] ~= '' and (status ~= 'assigned' or redis.call('HGET', KEYS[1], 'agent') ~= ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'agent', '', 'claimed_at', '0', 'team', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
"""

# Follow a conversation merged into another (kefu/channels/history_merge.py): the active handoff of KEYS[1] now serves
# the conversation ARGV[2], and holds it too unless another active handoff already does. KEYS[1] still points
# at it, so readers of the old id find it. -1: KEYS[1] or KEYS[2] changed since the caller read them
# (ARGV[1], ARGV[4]); read again and retry. KEYS[4] is the handoff that holds KEYS[2], if any.
_MOVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local held = redis.call('GET', KEYS[2])
if (held or '') ~= ARGV[4] then return -1 end
local status = redis.call('HGET', KEYS[3], 'status')
if status ~= 'waiting' and status ~= 'assigned' then return 0 end
redis.call('HSET', KEYS[3], 'conversation_id', ARGV[2], 'customer_id', ARGV[3])
local other = redis.call('HGET', KEYS[4], 'status')
if held == ARGV[1] or (other ~= 'waiting' and other ~= 'assigned') then
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
"""
MOVE_ATTEMPTS = 5

# Wake the snoozed handoffs due by ARGV[1]: ZREM is the point several processes' watchers race on, so each
# wakes once. Only a handoff still active and still snoozed (a customer's message may have woken it) changes.
# KEYS[1] the snoozed set; ARGV[2] the handoff key prefix. Returns the woken ticket ids.
_WAKE = """
local woken = {}
for _, ticket in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)) do
  if redis.call('ZREM', KEYS[1], ticket) == 1 then
    local key = ARGV[2] .. ticket
    local status = redis.call('HGET', key, 'status')
    if (status == 'waiting' or status == 'assigned') and redis.call('HGET', key, 'inbox') == 'snoozed' then
      redis.call('HSET', key, 'inbox', 'open', 'snoozed_until', '0')
      table.insert(woken, ticket)
    end
  end
end
return woken
"""


@dataclass(frozen=True)
class Handoff:
    """One conversation taken over by people: the ticket, why, where the customer is, and who holds it."""

    ticket_id: str
    conversation_id: str
    customer_id: str
    channel: str
    lang: str
    reason: str
    priority: str
    trigger_id: str
    trigger_text: str
    created_at: float
    status: str = "waiting"
    agent: str = ""
    claimed_at: float = 0.0
    finished_at: float = 0.0
    resolution: str = ""
    team: str = ""  # whose queue it waits in first (kefu/handoff/teams.py); "" = everyone's
    inbox: str = "open"  # INBOX_STATES, while active
    snoozed_until: float = 0.0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def inbox_status(self) -> str:
        """The inbox's status filter this handoff is under: open, pending, snoozed or resolved."""
        if not self.active:
            return "resolved"
        return self.inbox if self.inbox in INBOX_STATES else "open"

    def to_hash(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> Handoff:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name in raw:
                values[item.name] = float(raw[item.name]) if item.type in ("float", float) else raw[item.name]
        return cls(**values)

    def summary(self, now: float | None = None) -> dict[str, Any]:
        """What a queue row shows."""
        now = time.time() if now is None else now
        return asdict(self) | {"waiting_s": round(now - self.created_at, 1)}


class ClaimRefused(RuntimeError):
    """Somebody else took it first, or it is no longer waiting."""


class HandoffStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._requeue = redis.register_script(_REQUEUE)
        self._move = redis.register_script(_MOVE)
        self._wake = redis.register_script(_WAKE)

    async def open(self, handoff: Handoff, packet: dict[str, Any]) -> None:
        """Hold the conversation, queue the ticket and keep its context packet, in one transaction."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.handoff(handoff.ticket_id), mapping=handoff.to_hash())
            pipe.set(keys.handoff_of_conversation(handoff.conversation_id), handoff.ticket_id)
            pipe.set(keys.handoff_context(handoff.ticket_id), json.dumps(packet, ensure_ascii=False))
            pipe.zadd(keys.HANDOFF_QUEUE, {handoff.ticket_id: queue_score(handoff.priority, handoff.created_at)})
            pipe.zadd(keys.HANDOFF_INDEX, {handoff.ticket_id: handoff.created_at})
            await pipe.execute()

    async def recent(self, limit: int = 500) -> list[Handoff]:
        """The newest ``limit`` handoffs in any status (the inbox's resolved view and search read these)."""
        ids = await self.redis.zrevrange(keys.HANDOFF_INDEX, 0, limit - 1)
        return [h for h in [await self.get(i) for i in ids] if h is not None]

    async def set_inbox(self, ticket_id: str, inbox: str, until: float = 0.0) -> Handoff | None:
        """Move an active handoff to ``inbox`` (snoozed: until ``until``, when the watcher wakes it)."""
        if inbox not in INBOX_STATES:
            raise ValueError(f"inbox state must be one of {INBOX_STATES}")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.handoff(ticket_id), mapping={"inbox": inbox, "snoozed_until": str(until)})
            if inbox == "snoozed":
                pipe.zadd(keys.HANDOFF_SNOOZED, {ticket_id: until})
            else:
                pipe.zrem(keys.HANDOFF_SNOOZED, ticket_id)
            await pipe.execute()
        return await self.get(ticket_id)

    async def wake_due(self, now: float) -> list[Handoff]:
        """Snoozed handoffs whose time has come, back to open; each is woken by exactly one caller."""
        woken = await self._wake(keys=[keys.HANDOFF_SNOOZED], args=[now, keys.handoff("")])
        return [h for h in [await self.get(ticket_id) for ticket_id in woken] if h is not None]

    async def holding(self, conversation_id: str) -> Handoff | None:
        """The active handoff of this conversation, if people hold (or are about to hold) it."""
        ticket_id = await self.redis.get(keys.handoff_of_conversation(conversation_id))
        if not ticket_id:
            return None
        handoff = await self.get(ticket_id)
        return handoff if handoff is not None and handoff.active else None

    async def get(self, ticket_id: str) -> Handoff | None:
        raw = await self.redis.hgetall(keys.handoff(ticket_id))
        return Handoff.from_hash(raw) if raw else None

    async def packet(self, ticket_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(keys.handoff_context(ticket_id))
        return json.loads(raw) if raw else None

    async def position(self, ticket_id: str) -> int | None:
        """1-based place in the queue."""
        rank = await self.redis.zrank(keys.HANDOFF_QUEUE, ticket_id)
        return None if rank is None else rank + 1

    async def queue(self) -> list[Handoff]:
        """Waiting handoffs, most urgent and longest waiting first."""
        ids = await self.redis.zrange(keys.HANDOFF_QUEUE, 0, -1)
        return [h for h in [await self.get(i) for i in ids] if h is not None]

    async def active(self) -> list[Handoff]:
        """Every handoff still held by people (waiting or assigned)."""
        found, seen = [], set()
        async for key in self.redis.scan_iter(match=keys.handoff_of_conversation("*"), count=500):
            ticket_id = await self.redis.get(key)
            if not ticket_id or ticket_id in seen:  # a merged conversation's key points at its handoff too
                continue
            seen.add(ticket_id)
            handoff = await self.get(ticket_id)
            if handoff is not None and handoff.active:
                found.append(handoff)
        return sorted(found, key=lambda h: queue_score(h.priority, h.created_at))

    async def move(self, source: str, target: str, customer_id: str) -> Handoff | None:
        """The active handoff of conversation ``source``, now serving ``target`` (where its history went).

        It holds ``target`` too, so the customer's next messages (which go to ``target``) reach the agent, not
        the bot; unless another active handoff already holds ``target``: that one keeps it, and this one stays
        on the board (``source`` still points at it) until an agent closes it. None when ``source`` has no
        active handoff. Running it again changes nothing.
        """
        for _ in range(MOVE_ATTEMPTS):
            ticket_id = await self.redis.get(keys.handoff_of_conversation(source))
            if not ticket_id:
                return None
            held = await self.redis.get(keys.handoff_of_conversation(target)) or ""
            result = await self._move(
                keys=[keys.handoff_of_conversation(source), keys.handoff_of_conversation(target),
                      keys.handoff(ticket_id), keys.handoff(held)],
                args=[ticket_id, target, customer_id, held],
            )
            if result == 1:
                return await self.get(ticket_id)
            if result == 0:
                return None
        raise RuntimeError(f"handoff of {source} kept changing while it was moved to {target}")

    async def claim(self, ticket_id: str, agent: str) -> Handoff:
        """Assign to this agent, atomically: of two agents claiming at once exactly one wins."""
        if not await self._claim(keys=[keys.HANDOFF_QUEUE, keys.handoff(ticket_id)], args=[ticket_id, agent, time.time()]):
            raise ClaimRefused(ticket_id)
        handoff = await self.get(ticket_id)
        assert handoff is not None
        return handoff

    async def transfer(self, ticket_id: str, to_agent: str) -> Handoff:
        handoff = await self.get(ticket_id)
        if handoff is None or handoff.status != "assigned":
            raise ClaimRefused(ticket_id)
        await self.redis.hset(keys.handoff(ticket_id), mapping={"agent": to_agent})
        return replace(handoff, agent=to_agent)

    async def requeue(self, handoff: Handoff, team: str, agent: str = "") -> Handoff:
        """Put it back in the queue for ``team`` (at its original place); ``agent`` must hold it unless empty."""
        result = await self._requeue(
            keys=[keys.handoff(handoff.ticket_id), keys.HANDOFF_QUEUE],
            args=[handoff.ticket_id, team, agent, queue_score(handoff.priority, handoff.created_at)],
        )
        if result != 1:
            raise ClaimRefused(handoff.ticket_id)
        return replace(handoff, status="waiting", agent="", claimed_at=0.0, team=team)

    async def escalate(self, handoff: Handoff, reason: str, priority: str, team: str) -> Handoff:
        """The worst turn names the handoff: a new reason, priority and team; a waiting one moves up the queue
        (``XX``: only while it is still queued, so a claim at the same moment is not undone)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.handoff(handoff.ticket_id), mapping={"reason": reason, "priority": priority, "team": team})
            pipe.zadd(keys.HANDOFF_QUEUE, {handoff.ticket_id: queue_score(priority, handoff.created_at)}, xx=True)
            await pipe.execute()
        return replace(handoff, reason=reason, priority=priority, team=team)

    async def finish(self, handoff: Handoff, status: str, resolution: str, agent: str = "") -> bool:
        """Close or return the handoff; False when it already was (or another agent holds it)."""
        result = await self._finish(
            keys=[keys.handoff(handoff.ticket_id), keys.HANDOFF_QUEUE, keys.handoff_of_conversation(handoff.conversation_id)],
            args=[status, time.time(), resolution, agent, handoff.ticket_id],
        )
        if result == -1:
            raise ClaimRefused(handoff.ticket_id)
        return bool(result)

    async def add_note(self, subject: str, note: dict[str, Any]) -> None:
        await self.redis.rpush(keys.notes(subject), json.dumps(note, ensure_ascii=False))

    async def notes(self, subject: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self.redis.lrange(keys.notes(subject), 0, -1)]

    async def set_presence(self, agent: str, status: str, role: str, team: str = "") -> None:
        await self.redis.hset(keys.PRESENCE, agent, json.dumps({"status": status, "role": role, "seen": time.time(),
                                                               "team": team}))

    async def drop_presence(self, agent: str) -> None:
        await self.redis.hdel(keys.PRESENCE, agent)

    async def presence(self) -> dict[str, dict[str, Any]]:
        now = time.time()
        raw = await self.redis.hgetall(keys.PRESENCE)
        seen = {name: json.loads(value) for name, value in raw.items()}
        return {name: p for name, p in seen.items() if now - p["seen"] < PRESENCE_TTL_S}

    async def agents_online(self) -> int:
        return sum(1 for p in (await self.presence()).values() if p["status"] == "online")

    async def publish(self, event: dict[str, Any]) -> None:
        """Tell every console (in every gateway process) what changed."""
        await self.redis.publish(keys.CONSOLE_EVENTS, json.dumps(event, ensure_ascii=False))
