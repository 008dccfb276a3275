"""The conversation pipeline every channel shares: inbox stream -> Rasa -> transcript -> the customer's channel."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import Understanding
from kefu.core.delivery import Delivery
from kefu.core.i18n import detect_language, t
from kefu.core.inbox import GROUP, Inbox
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.dialogue.rasa_client import RasaClient, RasaTurn, RasaUnavailable

if TYPE_CHECKING:
    from kefu.handoff.decision import Decision
    from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

LEASE_MS = 15_000
RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)

ProcessedHook = Callable[[InboundMessage, RasaTurn], Awaitable[None]]
# Consulted in order before Rasa: True means the message was answered here (e.g. a satisfaction rating tap) and
# Rasa is not asked. Registered by the layers above (kefu/app wires them), so the pipeline knows none of them.
Interceptor = Callable[[InboundMessage], Awaitable[bool]]
# Told about every answered turn after its replies went out, with the handoff decision (None without handoff).
TurnObserver = Callable[[InboundMessage, RasaTurn, "Decision | None"], Awaitable[None]]
# What process() returns for a message people hold: Rasa was not asked.
HELD_TURN = RasaTurn(replies=[], understanding=Understanding(intent=None, confidence=None, entities=[]))

# Renew a lease only while we still hold it, so a slow process cannot steal a shard back.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Pipeline:
    """Consumes the inbox shards this process holds a lease on and answers every message in order."""

    def __init__(
        self,
        redis: aioredis.Redis,
        rasa: RasaClient,
        delivery: Delivery,
        shards: int,
        on_processed: ProcessedHook | None = None,
        handoff: HandoffManager | None = None,
        interceptors: Sequence[Interceptor] = (),
        observers: Sequence[TurnObserver] = (),
    ) -> None:
        # Human takeover (kefu/handoff): consulted before Rasa (held conversations skip it) and after.
        self.handoff = handoff
        self.interceptors = tuple(interceptors)
        self.observers = tuple(observers)
        self.redis = redis
        self.on_processed = on_processed
        self.rasa = rasa
        self.delivery = delivery
        self.shards = shards
        self.inbox = Inbox(redis, shards)
        self.conversations = delivery.conversations
        self.owner = consumer_name()
        self._renew = redis.register_script(_RENEW)

    async def run(self) -> None:
        """Serve every shard until cancelled."""
        await self.inbox.ensure_groups()
        await asyncio.gather(*(self._serve_shard(shard) for shard in range(self.shards)))

    async def _serve_shard(self, shard: int) -> None:
        lease = keys.shard_lease(shard)
        while True:
            try:
                if await self.redis.set(lease, self.owner, nx=True, px=LEASE_MS) or await self._renew(
                    keys=[lease], args=[self.owner, LEASE_MS]
                ):
                    await self._drain(shard, lease)
                else:
                    await asyncio.sleep(LEASE_MS / 3000)
            except (aioredis.ConnectionError, aioredis.TimeoutError) as error:
                log.warning("shard %s: Redis unavailable (%s); retrying", shard, error)
                await asyncio.sleep(1)

    async def _drain(self, shard: int, lease: str) -> None:
        """Process pending entries first (left by a crash), then new ones, while the lease holds."""
        consumer = f"shard-{shard}"
        next_id = "0"
        # The lease is renewed in the background, so a long wait for Rasa cannot let another gateway
        # take the shard and answer the same message twice.
        keeper = asyncio.create_task(self._keep_lease(lease))
        try:
            while not keeper.done():
                batches = await self.redis.xreadgroup(
                    GROUP, consumer, {keys.inbox_stream(shard): next_id}, count=20, block=2000
                )
                entries = batches[0][1] if batches else []
                if next_id == "0" and not entries:
                    next_id = ">"
                    continue
                for entry_id, fields in entries:
                    await self._handle_entry(shard, entry_id, fields)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, aioredis.ConnectionError, aioredis.TimeoutError):
                await keeper

    async def _keep_lease(self, lease: str) -> None:
        """Renew the lease until it is lost (returns) or the drain ends (cancelled)."""
        while await self._renew(keys=[lease], args=[self.owner, LEASE_MS]):
            await asyncio.sleep(LEASE_MS / 3000)

    async def _handle_entry(self, shard: int, entry_id: str, fields: Mapping[str, str]) -> None:
        done_key = keys.entry_done(shard, entry_id)
        if not await self.redis.exists(done_key):
            try:
                message = InboundMessage.from_json(fields["message"])
            except (KeyError, TypeError, ValueError):
                log.error("shard %s: unreadable entry %s dropped: %r", shard, entry_id, fields)
            else:
                turn = await self.process(message)
                if self.on_processed is not None:
                    await self.on_processed(message, turn)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(done_key, "1", ex=24 * 3600)
            pipe.xack(keys.inbox_stream(shard), GROUP, entry_id)
            pipe.xdel(keys.inbox_stream(shard), entry_id)
            await pipe.execute()

    async def process(self, message: InboundMessage) -> RasaTurn:
        """Answer one message: ask Rasa (waiting out an outage), store and deliver the replies."""
        metadata = {
            "customer_id": message.customer_id,
            "channel": message.channel,
            "conversation_id": message.conversation_id,
        } | message.metadata
        if self.handoff is not None and await self.handoff.before(message):
            return HELD_TURN
        for intercept in self.interceptors:
            if await intercept(message):
                return HELD_TURN
        turn = await self._ask_rasa(message, metadata)
        await self.conversations.set_understanding(message.conversation_id, message.message_id, turn.understanding)
        if turn.slots.get("lang"):
            await self.conversations.set_language(message.conversation_id, str(turn.slots["lang"]))
        decision = await self.handoff.after(message, turn) if self.handoff is not None else None
        if decision is not None and decision.handoff:
            await self._observe(message, turn, decision)
            return turn  # a person takes over; the customer was told, the bot's replies are dropped
        for reply in turn.replies:
            await self.delivery.deliver(message.channel, OutboundMessage(
                conversation_id=message.conversation_id, text=reply.text, buttons=reply.buttons
            ))
        if decision is not None and decision.offer:  # after the bot's answer: "shall I ask a colleague?"
            await self.handoff.offer(message, turn)
        await self._observe(message, turn, decision)
        return turn

    async def _observe(self, message: InboundMessage, turn: RasaTurn, decision: Decision | None) -> None:
        for observe in self.observers:
            await observe(message, turn, decision)

    async def _ask_rasa(self, message: InboundMessage, metadata: dict) -> RasaTurn:
        attempt = 0
        while True:
            try:
                # A pressed button sends its intent payload; the transcript keeps the button's title.
                text = message.metadata.get("payload") or message.text
                return await self.rasa.handle(message.conversation_id, text, metadata)
            except RasaUnavailable as error:
                log.warning("conversation %s: Rasa unavailable (%s)", message.conversation_id, error)
                if attempt == 0:
                    await self._tell_unavailable(message)
                await asyncio.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
                attempt += 1

    async def _tell_unavailable(self, message: InboundMessage) -> None:
        record = await self.conversations.record(message.conversation_id)
        lang = detect_language(message.text) or record.get("lang") or "zh"
        await self.delivery.deliver(message.channel, OutboundMessage(
            conversation_id=message.conversation_id, text=t("gateway.unavailable", lang), role="system"
        ))
