"""A promised follow-up that was missed is owned up to the customer, not only flagged to agents (field note 9).

The follow-up watcher (kefu/handoff/followups.py) raises its "missed" alert once however many processes run;
this listener turns that alert into one honest message ("we are late, here is where it stands") on the
customer's last channel, claimed in Redis as well so the customer hears it once per promise.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from kefu.commitments.updates import ProactiveUpdates, Update
from kefu.core import keys
from kefu.core.i18n import t
from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

TOLD_TTL_S = 30 * 24 * 3600


class LateFollowUps:
    def __init__(self, redis: aioredis.Redis, updates: ProactiveUpdates, handoff: HandoffManager,
                 tz: ZoneInfo) -> None:
        self.redis = redis
        self.updates = updates
        self.handoff = handoff
        self.tz = tz

    async def on_alert(self, event: dict[str, Any]) -> None:
        """Told about every follow-up alert the watcher raises; acts on ``missed`` only."""
        if event.get("type") != "followup" or event.get("stage") != "missed":
            return
        item = event.get("item") or {}
        ticket_id, due_at = str(item.get("ticket_id", "")), float(item.get("due_at", 0))
        handoff = await self.handoff.handoff(ticket_id)
        if handoff is None or not handoff.active:
            return
        if not await self.redis.set(keys.followup_late_told(ticket_id, due_at), "1", nx=True, ex=TOLD_TTL_S):
            return
        lang = handoff.lang
        where = t("commitments.late.assigned", lang, agent=handoff.agent) if handoff.status == "assigned" \
            else t("commitments.late.waiting", lang)
        due = t("format.datetime", lang, dt=datetime.fromtimestamp(due_at, UTC).astimezone(self.tz))
        text = t("commitments.late.told", lang, ticket=ticket_id, due=due, where=where)
        status = await self.updates.send(Update(handoff.conversation_id, text, "followup"))
        log.info("follow-up %s missed: the customer was told (%s)", ticket_id, status)
