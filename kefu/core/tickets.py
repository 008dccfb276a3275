"""Tickets: every complaint or handoff becomes a record with an id the customer can look up on any channel."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from kefu.core import keys

log = logging.getLogger(__name__)

# Ids below this are reserved for seeded demo tickets (T-100871 and friends); new ones never collide with them.
COUNTER_START = 100900
STATUSES = ("open", "processing", "waiting_customer", "resolved", "closed")




def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TicketNote:
    """One step in a ticket's history: what changed and what the customer is told about it."""

    time: datetime
    status: str
    text: str


@dataclass(frozen=True)
class Ticket:
    """A tracked case; `notes` is its history, newest last."""

    id: str
    customer_id: str | None
    conversation_id: str
    reason: str
    priority: str
    trigger_text: str
    channel: str
    status: str = "open"
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    notes: tuple[TicketNote, ...] = ()
    # What a complaint or safety report is about (kefu/handoff/categories.py); "" for other tickets.
    category: str = ""

    @property
    def last_update(self) -> str:
        """The latest note's text, or "" for a ticket nobody has touched yet."""
        return self.notes[-1].text if self.notes else ""

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        data["notes"] = [{**asdict(n), "time": n.time.isoformat()} for n in self.notes]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Ticket:
        data = json.loads(raw)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["updated_at"] = datetime.fromisoformat(data["updated_at"])
        data["notes"] = tuple(
            TicketNote(time=datetime.fromisoformat(n["time"]), status=n["status"], text=n["text"])
            for n in data.get("notes", ())
        )
        return cls(**data)


class TicketNotFound(LookupError):
    """No ticket has this id."""


class TicketStore:
    """Tickets as JSON in `kefu:ticket:<id>`, indexed per customer in a sorted set scored by creation time."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def _next_id(self) -> str:
        await self._redis.set(keys.TICKET_COUNTER, COUNTER_START, nx=True)
        number = await self._redis.incr(keys.TICKET_COUNTER)
        return f"T-{number:06d}"

    async def put(self, ticket: Ticket) -> Ticket:
        """Store a ticket as given (also how demo tickets with fixed ids are seeded)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.ticket(ticket.id), ticket.to_json())
            if ticket.customer_id:
                pipe.zadd(keys.customer_tickets(ticket.customer_id), {ticket.id: ticket.created_at.timestamp()})
            await pipe.execute()
        return ticket

    async def create(
        self,
        customer_id: str | None,
        conversation_id: str,
        reason: str,
        priority: str,
        trigger_text: str,
        channel: str,
        category: str = "",
    ) -> Ticket:
        """Open a ticket with a fresh `T-` id; the id is what the customer is told and quotes later."""
        now = _now()
        ticket = Ticket(
            id=await self._next_id(), customer_id=customer_id, conversation_id=conversation_id,
            reason=reason, priority=priority, trigger_text=trigger_text, channel=channel,
            status="open", created_at=now, updated_at=now, category=category,
        )
        log.info("ticket %s opened for customer %s (%s, %s)", ticket.id, customer_id, reason, priority)
        return await self.put(ticket)

    async def get(self, ticket_id: str) -> Ticket | None:
        raw = await self._redis.get(keys.ticket(ticket_id.upper()))
        return Ticket.from_json(raw) if raw else None

    async def list_for(self, customer_id: str) -> list[Ticket]:
        """The customer's tickets, newest first."""
        ids = await self._redis.zrevrange(keys.customer_tickets(customer_id), 0, -1)
        tickets = []
        for ticket_id in ids:
            ticket = await self.get(ticket_id.decode() if isinstance(ticket_id, bytes) else ticket_id)
            if ticket is not None:
                tickets.append(ticket)
        return tickets

    async def latest_for(self, customer_id: str) -> Ticket | None:
        ids = await self._redis.zrevrange(keys.customer_tickets(customer_id), 0, 0)
        if not ids:
            return None
        first = ids[0]
        return await self.get(first.decode() if isinstance(first, bytes) else first)

    async def adopt(self, ticket_id: str, customer_id: str, conversation_id: str) -> Ticket | None:
        """A ticket opened before its channel user was linked becomes the customer's: listed with their
        tickets, looked up from any of their channels. None for an unknown id; running it again changes
        nothing."""
        return await self._revise(ticket_id, customer_id=customer_id, conversation_id=conversation_id)

    async def escalate(self, ticket_id: str, reason: str, priority: str) -> Ticket | None:
        """A later turn of the conversation was worse (a safety report in a complaint): the ticket says so."""
        return await self._revise(ticket_id, reason=reason, priority=priority)

    async def set_category(self, ticket_id: str, category: str) -> Ticket | None:
        """Set by the detector when a handoff opens or escalates, corrected by the agent; None for an unknown id."""
        return await self._revise(ticket_id, category=category)

    async def _revise(self, ticket_id: str, **changes: str) -> Ticket | None:
        key = keys.ticket(ticket_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)  # a status update between the read and the write is not lost
                    raw = await pipe.get(key)
                    if not raw:
                        return None
                    ticket = replace(Ticket.from_json(raw), **changes)
                    pipe.multi()
                    pipe.set(key, ticket.to_json())
                    if ticket.customer_id:
                        pipe.zadd(keys.customer_tickets(ticket.customer_id), {ticket.id: ticket.created_at.timestamp()})
                    await pipe.execute()
                    return ticket
                except WatchError:
                    continue

    async def update_status(self, ticket_id: str, status: str, note: str) -> Ticket:
        """Move a ticket on and record why; raises TicketNotFound for an unknown id, ValueError for a bad status."""
        if status not in STATUSES:
            raise ValueError(f"unknown ticket status {status!r}; expected one of {STATUSES}")
        ticket = await self.get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        now = _now()
        updated = replace(
            ticket, status=status, updated_at=now, notes=(*ticket.notes, TicketNote(now, status, note)),
        )
        await self._redis.set(keys.ticket(updated.id), updated.to_json())
        return updated
