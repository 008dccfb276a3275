"""The customer sidebar beside a ticket: who the customer is (a label, never a visitor id), the channels they
wrote on, their satisfaction ratings, and the ticket's place in the inbox. Orders with their timelines,
earlier tickets and notes come with the context packet itself (kefu/handoff/context.py).

Ratings come from ``kefu.core.ratings`` when that module is installed; until then the sidebar says so.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from kefu.console.redact import customer_label
from kefu.handoff.state import Handoff

log = logging.getLogger(__name__)

try:  # written by another part of the project; the console works without it
    from kefu.core.ratings import RatingStore
except ImportError:  # pragma: no cover - depends on the installation
    RatingStore = None  # type: ignore[assignment,misc]


def _plain(rating: Any) -> dict[str, Any]:
    raw = dataclasses.asdict(rating) if dataclasses.is_dataclass(rating) else dict(rating)
    at = raw.get("at")
    if isinstance(at, datetime):
        raw["at"] = at.timestamp()
    return {key: raw.get(key) for key in ("ticket_id", "score", "comment", "by", "channel", "at")}


def _listed(found: Any) -> list[Any]:
    if found is None:
        return []
    return list(found) if isinstance(found, list | tuple) else [found]


async def ratings(redis: aioredis.Redis, handoff: Handoff, earlier: list[str]) -> dict[str, Any]:
    """{"available": bool, "ratings": [...]}: this conversation's ratings and those of its earlier tickets."""
    if RatingStore is None:
        return {"available": False, "ratings": []}
    store = RatingStore(redis)
    found = _listed(await store.for_conversation(handoff.conversation_id))
    for ticket_id in [handoff.ticket_id, *earlier]:
        found += _listed(await store.for_ticket(ticket_id))
    unique = {(r["ticket_id"], r["at"], r["score"]): r for r in map(_plain, found)}
    return {"available": True, "ratings": sorted(unique.values(), key=lambda r: r.get("at") or 0, reverse=True)}


async def sidebar(redis: aioredis.Redis, handoff: Handoff, packet: dict[str, Any]) -> dict[str, Any]:
    channels = sorted({str(e["channel"]) for e in packet.get("transcript") or [] if e.get("channel")}
                      | {handoff.channel})
    earlier = [str(t["id"]) for t in packet.get("earlier_tickets") or []]
    return {
        "label": customer_label(handoff.customer_id, handoff.conversation_id),
        "customer_id": handoff.customer_id or None,
        "lang": handoff.lang,
        "channels": channels,
        "csat": await ratings(redis, handoff, earlier),
        "inbox_status": handoff.inbox_status,
        "snoozed_until": handoff.snoozed_until or None,
    }
