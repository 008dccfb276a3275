"""A long Rasa outage: waiting customers are offered a person, and the bot still answers them if nobody came.

Rasa down for a moment is waited out inside the turn (kefu/pipeline/pipeline.py: the customer is told once that
the message arrived). Down for longer than ``OutageSettings.bot_unavailable_after_s``, and the turn stops
waiting: a ``bot_unavailable`` handoff opens for the conversation (once: its next messages are held, like any
handoff's), the customer is told in their language, and the message is *parked* with the ticket. The same
happens at once to every message that finds Rasa down while the outage is that old, so no shard stays blocked
behind one conversation and every waiting customer hears about it.

When Rasa answers again, each parked ticket is settled exactly once, whichever pipeline gets there first:

- nobody took it (still waiting): the pipeline claims it as ``BOT_AGENT`` (the same atomic claim agents race
  on, so an agent clicking at that moment either wins or loses cleanly), hands it back to the bot with a word to
  the customer, and puts the parked messages back into the inbox, where the bot answers them (once: they carry
  their idempotency keys, and the re-queue is one transaction with the parked hash's removal);
- an agent took it, closed it, or it was raised to a complaint or a safety report: the agent has the messages on
  their screen, the parked copies are dropped and the bot never answers them.

The outage's clock is shared in Redis (``keys.RASA_DOWN_SINCE``, refreshed while it lasts, expiring when no
process sees Rasa fail any more); a message also counts its own waiting, so a conversation whose Rasa process is
down while the others answer still gets its handoff.
"""
from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from kefu.config.outage import OutageSettings
from kefu.core import keys
from kefu.core.delivery import Delivery
from kefu.core.i18n import language_of, t
from kefu.core.inbox import shard_of
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.handoff.decision import Decision
from kefu.handoff.state import ClaimRefused, Handoff
from kefu.pipeline.progress import EntryProgress

if TYPE_CHECKING:
    from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

BOT_UNAVAILABLE = "bot_unavailable"
PRIORITY = "normal"
# Who holds a bot_unavailable ticket for the moment between taking it back from the queue and handing it back.
BOT_AGENT = "kefu-bot"
# The outage's start is forgotten this long after the last failure anyone saw.
DOWN_SINCE_TTL_S = 30


class BotUnavailable(Exception):
    """Rasa has been unreachable for too long: the turn stops waiting and a person is offered."""


class Outage:
    """The pipeline's side of a long Rasa outage: its clock, the handoff, the parked messages, the settling."""

    def __init__(self, redis: aioredis.Redis, handoff: HandoffManager, delivery: Delivery, shards: int,
                 settings: OutageSettings) -> None:
        self.redis = redis
        self.handoff = handoff
        self.delivery = delivery
        self.shards = shards
        self.after_s = settings.bot_unavailable_after_s
        self._failing = False

    # -- the clock -------------------------------------------------------------------------------------------

    async def failed(self, waiting_since: float) -> bool:
        """Rasa failed just now for a message waiting since ``waiting_since``: True when it is time to stop
        waiting (the outage, or this message's own wait, is older than the setting)."""
        now = time.time()
        self._failing = True
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.RASA_DOWN_SINCE, f"{now:.3f}", nx=True)
            pipe.expire(keys.RASA_DOWN_SINCE, DOWN_SINCE_TTL_S)
            pipe.get(keys.RASA_DOWN_SINCE)
            since = float((await pipe.execute())[-1] or now)
        return now - min(since, waiting_since) >= self.after_s

    async def answered(self) -> None:
        """Rasa answered: the outage this process saw is over."""
        if self._failing:
            self._failing = False
            await self.redis.delete(keys.RASA_DOWN_SINCE)

    # -- a customer's message during the outage --------------------------------------------------------------

    async def hand_over(self, message: InboundMessage, progress: EntryProgress) -> None:
        """Offer a person for this message's conversation (once), and keep the message for the bot."""
        holding = await self._holding(message)
        if holding is None:
            if not progress.has("outage_told"):
                lang = await self._lang(message)
                await self.delivery.deliver(message.channel, OutboundMessage(
                    conversation_id=message.conversation_id, text=t("outage.bot_unavailable", lang), role="system"))
                await progress.mark("outage_told")
            decision = Decision("handoff", BOT_UNAVAILABLE, PRIORITY, "pipeline",
                                evidence=f"Rasa unreachable for over {self.after_s:g} s")
            await self.handoff.open(message, decision, {})
            holding = await self._holding(message)
            log.warning("conversation %s: Rasa unreachable for over %s s; handoff %s offers a person",
                        message.conversation_id, self.after_s, holding.ticket_id if holding else "?")
        elif holding.trigger_id != message.message_id:  # held meanwhile: the agent's screen gets it, as any
            await self.handoff.before(message)
        if holding is not None:
            await self.held(message, holding)

    async def held(self, message: InboundMessage, holding: Handoff | None = None) -> None:
        """A message to a held conversation: parked for the bot if the handoff is an outage's nobody took yet."""
        holding = holding or await self._holding(message)
        if holding is None or holding.reason != BOT_UNAVAILABLE:
            return
        if holding.status != "waiting" and holding.agent != BOT_AGENT:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.outage_parked(holding.ticket_id), message.message_id, message.to_json())
            pipe.sadd(keys.OUTAGE_PARKED, holding.ticket_id)
            await pipe.execute()

    async def _holding(self, message: InboundMessage) -> Handoff | None:
        return await self.handoff.store.holding(await self.handoff.conversations.live_id(message.conversation_id))

    async def _lang(self, message: InboundMessage) -> str:
        record = await self.delivery.conversations.record(message.conversation_id)
        return language_of(message.text, record.get("lang"))

    # -- Rasa is back ----------------------------------------------------------------------------------------

    async def settle(self, rasa: Any) -> int:
        """Settle every parked ticket whose Rasa answers again; returns how many messages went back to the bot."""
        requeued = 0
        for ticket_id in await self.redis.smembers(keys.OUTAGE_PARKED):
            requeued += await self._settle(ticket_id, rasa)
        return requeued

    async def _settle(self, ticket_id: str, rasa: Any) -> int:
        handoff = await self.handoff.store.get(ticket_id)
        if handoff is None or handoff.reason != BOT_UNAVAILABLE:
            return await self._drop(ticket_id, "raised to another reason, or gone")
        if handoff.status == "waiting":
            if not await _ready(rasa, handoff.conversation_id):
                await self.failed(time.time())  # still down: the outage's clock keeps running
                return 0
            try:
                handoff = await self.handoff.store.claim(ticket_id, BOT_AGENT)
            except ClaimRefused:
                return 0  # an agent was quicker: the next round sees who holds it
        if handoff.agent != BOT_AGENT:
            return await self._drop(ticket_id, f"taken by {handoff.agent or 'a supervisor'}")
        if handoff.active:
            await self.handoff.hand_back(ticket_id, BOT_AGENT, told="outage.bot_back")
        return await self._requeue(ticket_id)

    async def _drop(self, ticket_id: str, why: str) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.outage_parked(ticket_id))
            pipe.srem(keys.OUTAGE_PARKED, ticket_id)
            await pipe.execute()
        log.info("handoff %s: parked messages left to people (%s)", ticket_id, why)
        return 0

    async def _requeue(self, ticket_id: str) -> int:
        """The parked messages back into the inbox, oldest first, in one transaction with their removal (WATCH:
        a message parked meanwhile is not dropped unsent)."""
        parked = keys.outage_parked(ticket_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(parked)
                    messages = sorted(await pipe.hvals(parked), key=lambda raw: json.loads(raw)["received_at"])
                    pipe.multi()
                    for raw in messages:
                        conversation_id = json.loads(raw)["conversation_id"]
                        pipe.xadd(keys.inbox_stream(shard_of(conversation_id, self.shards)), {"message": raw})
                    pipe.delete(parked)
                    pipe.srem(keys.OUTAGE_PARKED, ticket_id)
                    await pipe.execute()
                    break
                except aioredis.WatchError:
                    continue
        log.info("handoff %s: nobody took it while Rasa was down; %s messages back to the bot", ticket_id,
                 len(messages))
        return len(messages)


async def _ready(rasa: Any, conversation_id: str) -> bool:
    """Whether the Rasa process that answers this conversation has its model loaded again."""
    pick = getattr(rasa, "for_conversation", None)
    client = pick(conversation_id) if pick is not None else rasa
    return bool(await client.is_ready())
