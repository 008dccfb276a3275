"""The conversation pipeline every channel shares: inbox stream -> Rasa -> transcript -> the customer's channel.

Each shard is served by whichever process holds its lease; the lease is checked before every entry. Every
process reads under its own consumer name and, on taking a shard over, claims the entries its previous holder
left pending. One entry's failure never stops its shard (kefu/pipeline/boundary.py), and a replayed entry never
asks Rasa again once Rasa answered it (kefu/pipeline/progress.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import redis.asyncio as aioredis

from kefu.config.outage import OutageSettings
from kefu.config.retention import RetentionSettings
from kefu.core import keys
from kefu.core.conversations import Understanding
from kefu.core.deadletter import DeadLetters
from kefu.core.delivery import Delivery
from kefu.core.i18n import language_of, t
from kefu.core.inbox import GROUP, Inbox, idempotency_key
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.core.tasks import cancel_and_wait
from kefu.dialogue.rasa_client import RasaTurn, RasaUnavailable
from kefu.handoff.decision import Decision
from kefu.pipeline import heartbeat
from kefu.pipeline.boundary import (
    ENTRY_RETRY_DELAYS_S,
    SHARD_BACKOFF_S,
    GiveUp,
    describe,
    is_nogroup,
    is_redis_down,
    parse_entry,
)
from kefu.pipeline.outage import BotUnavailable, Outage
from kefu.pipeline.progress import EntryProgress

if TYPE_CHECKING:
    from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

LEASE_MS = 15_000
RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)
# Entries claimed per round when taking over a shard's pending entries.
CLAIM_COUNT = 100
# How often failed hand-backs are looked at (each has its own backoff, kefu/handoff/resumes.py).
RESUME_CHECK_S = 2.0
# How often tickets parked by a long Rasa outage are looked at (kefu/pipeline/outage.py).
OUTAGE_CHECK_S = 2.0

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
# Give a lease up on the way out (only ours), with the shard's heartbeat: a restarted worker need not wait for it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0
"""


def _raise_if_cancelled() -> None:
    """A cancellation that arrived inside a Redis call can surface as a ConnectionError: it is still a stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Dialogue(Protocol):
    """What the pipeline asks of Rasa: kefu/dialogue's client (or a pool of them)."""

    async def handle(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn: ...


# Told apart from an earlier process that had the same pid (a container restarted).
_PROCESS_TAG = secrets.token_hex(3)
_pipelines = itertools.count(1)


def consumer_name() -> str:
    """This process's name (host, pid, a random tag), the same on every call."""
    return f"{socket.gethostname()}-{os.getpid()}-{_PROCESS_TAG}"


class Pipeline:
    """Consumes the inbox shards this process holds a lease on and answers every message in order."""

    def __init__(
        self,
        redis: aioredis.Redis,
        rasa: Dialogue,
        delivery: Delivery,
        shards: int,
        on_processed: ProcessedHook | None = None,
        handoff: HandoffManager | None = None,
        interceptors: Sequence[Interceptor] = (),
        observers: Sequence[TurnObserver] = (),
        retention: RetentionSettings | None = None,
        outage: OutageSettings | None = None,
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
        # The lease owner and stream consumer: this process's name, and which of its pipelines (tests run several).
        self.owner = f"{consumer_name()}-{next(_pipelines)}"
        self.retention = retention or RetentionSettings()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._give_up = GiveUp(DeadLetters(redis, self.retention.dead_letter_max), delivery, handoff)
        # A long Rasa outage offers a person (kefu/pipeline/outage.py); without handoff, messages just wait.
        outage = outage or OutageSettings()
        self.outage = Outage(redis, handoff, delivery, shards, outage) if handoff and outage.enabled else None

    async def run(self) -> None:
        """Serve every shard until cancelled; no failure of one shard's loop ends it (or the others). Failed
        hand-backs are retried beside them (kefu/handoff/resumes.py)."""
        loops = [asyncio.create_task(self._retry_resumes(), name="kefu-resumes"),
                 asyncio.create_task(self._settle_outages(), name="kefu-outages")]
        loops += [asyncio.create_task(self._serve_shard(shard), name=f"kefu-shard-{shard}")
                  for shard in range(self.shards)]
        try:
            await asyncio.gather(*loops)
        finally:  # stopped: every loop ends (and gives its lease up) before run() returns
            await asyncio.gather(*(cancel_and_wait(loop) for loop in loops), return_exceptions=True)

    async def _retry_resumes(self) -> None:
        if self.handoff is not None:
            await _repeat(self.handoff.retry_resumes, RESUME_CHECK_S, "failed hand-backs")

    async def _settle_outages(self) -> None:
        if self.outage is not None:
            outage = self.outage
            await _repeat(lambda: outage.settle(self.rasa), OUTAGE_CHECK_S, "tickets parked by a Rasa outage")

    async def _serve_shard(self, shard: int) -> None:
        lease = keys.shard_lease(shard)
        failures = 0
        try:
            while True:
                try:
                    if await self._take_lease(lease):
                        await self._drain(shard, lease)
                        failures = 0
                    else:
                        await asyncio.sleep(LEASE_MS / 3000)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - the shard loop's boundary: logged, then recovered
                    _raise_if_cancelled()
                    await self._shard_failed(shard, error, failures)
                    failures += 1
        finally:
            await self._give_lease_up(shard, lease)

    async def _give_lease_up(self, shard: int, lease: str) -> None:
        """Best effort on the way out; twice, since the cancelled read may have left its connection broken."""
        for _ in range(2):
            with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
                await asyncio.wait_for(
                    self._release(keys=[lease, keys.shard_heartbeat(shard)], args=[self.owner]), timeout=1)
                return

    async def _take_lease(self, lease: str) -> bool:
        return bool(await self.redis.set(lease, self.owner, nx=True, px=LEASE_MS)
                    or await self._renew(keys=[lease], args=[self.owner, LEASE_MS]))

    async def _shard_failed(self, shard: int, error: Exception, failures: int) -> None:
        if is_redis_down(error):
            log.warning("shard %s: Redis unavailable (%s); retrying", shard, error)
        elif is_nogroup(error):
            log.error("shard %s: the consumer group is gone (%s); creating it again", shard, error)
        else:
            log.error("shard %s: %s; the shard goes on after a pause", shard, describe(error),
                      exc_info=(type(error), error, error.__traceback__))
        await asyncio.sleep(SHARD_BACKOFF_S[min(failures, len(SHARD_BACKOFF_S) - 1)])
        with contextlib.suppress(aioredis.RedisError):
            await heartbeat.beat(self.redis, shard, self.owner, "recovering")

    async def _drain(self, shard: int, lease: str) -> None:
        """Process pending entries first (left by a crash), then new ones, while the lease holds."""
        stream = keys.inbox_stream(shard)
        await self.inbox.ensure_group(shard)
        await self._claim_pending(shard)
        next_id = "0"
        # The lease is renewed in the background, so a long wait for Rasa cannot let another gateway
        # take the shard and answer the same message twice; it is also checked before every entry.
        keeper = asyncio.create_task(self._keep_lease(shard, lease))
        try:
            while not keeper.done():
                batches = await self.redis.xreadgroup(GROUP, self.owner, {stream: next_id}, count=20, block=2000)
                entries = batches[0][1] if batches else []
                if next_id == "0" and not entries:
                    next_id = ">"
                    continue
                # Conversations are answered side by side, each one's messages in order: a customer does not
                # wait behind another who happens to share the shard.
                outcomes = await asyncio.gather(*(self._handle_in_order(shard, lease, group)
                                                  for group in by_conversation(entries)), return_exceptions=True)
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
                if not all(outcomes):
                    return
        finally:  # redis-py can swallow a cancellation: cancel until the keeper has really ended
            with contextlib.suppress(aioredis.RedisError):
                await cancel_and_wait(keeper)

    async def _handle_in_order(self, shard: int, lease: str, group: list[tuple[str, Mapping[str, str]]]) -> bool:
        """One conversation's entries of a batch, in order; False if the lease was lost before one of them."""
        for entry_id, fields in group:
            if not await self._renew(keys=[lease], args=[self.owner, LEASE_MS]):
                log.warning("shard %s: lease lost before entry %s; leaving it to the new holder", shard, entry_id)
                return False
            await self._handle_entry(shard, entry_id, fields)
        return True

    async def _claim_pending(self, shard: int) -> None:
        """Take over what earlier holders of the shard left unacknowledged (we hold the lease, so nobody else
        works on them), then forget consumers with nothing pending, so the group does not grow per restart."""
        stream = keys.inbox_stream(shard)
        start = "0-0"
        while True:
            answer = await self.redis.xautoclaim(stream, GROUP, self.owner, min_idle_time=0, start_id=start,
                                                 count=CLAIM_COUNT)
            start = answer[0]
            if start == "0-0":
                break
        for consumer in await self.redis.xinfo_consumers(stream, GROUP):
            if consumer["name"] != self.owner and not consumer["pending"]:
                await self.redis.xgroup_delconsumer(stream, GROUP, consumer["name"])

    async def _keep_lease(self, shard: int, lease: str) -> None:
        """Renew the lease, and beat the shard's heartbeat, until the lease is lost (returns) or the drain ends
        (cancelled): a shard whose loop died or lost its lease stops beating."""
        while await self._renew(keys=[lease], args=[self.owner, LEASE_MS]):
            await heartbeat.beat(self.redis, shard, self.owner)
            await asyncio.sleep(LEASE_MS / 3000)

    async def _handle_entry(self, shard: int, entry_id: str, fields: Mapping[str, str]) -> None:
        """Answer one entry inside the error boundary (kefu/pipeline/boundary.py): Redis outages and a lost group
        go up to the shard's loop; anything else is retried, then the entry is given up on and the shard goes on."""
        if not fields:  # deleted while still pending: it was answered (done, acknowledged, deleted at once)
            await self._finish(shard, entry_id)
            return
        attempts = 0
        while True:
            attempts += 1
            try:
                await self._answer_entry(shard, entry_id, fields)
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the boundary: every failure is logged, retried, then handed to a person
                _raise_if_cancelled()
                if is_redis_down(error) or is_nogroup(error):
                    raise
                if attempts <= len(ENTRY_RETRY_DELAYS_S):
                    log.warning("shard %s: entry %s failed (attempt %s): %s", shard, entry_id, attempts,
                                describe(error), exc_info=(type(error), error, error.__traceback__))
                    await asyncio.sleep(ENTRY_RETRY_DELAYS_S[attempts - 1])
                    continue
                await self._give_up(shard, entry_id, fields, error, attempts)
                break
        await self._finish(shard, entry_id)

    async def _answer_entry(self, shard: int, entry_id: str, fields: Mapping[str, str]) -> None:
        if await self.redis.exists(keys.entry_done(shard, entry_id)):
            return
        message = parse_entry(fields)  # an unreadable entry fails here, and is given up on like any failure
        progress = await EntryProgress.load(self.redis, shard, entry_id, self.retention.done_ttl_s)
        turn = await self.process(message, progress)
        if self.on_processed is not None:
            await self.on_processed(message, turn)

    async def _finish(self, shard: int, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.entry_done(shard, entry_id), "1", ex=self.retention.done_ttl_s)
            pipe.xack(keys.inbox_stream(shard), GROUP, entry_id)
            pipe.xdel(keys.inbox_stream(shard), entry_id)
            pipe.delete(keys.entry_progress(shard, entry_id))
            await pipe.execute()

    async def process(self, message: InboundMessage, progress: EntryProgress | None = None) -> RasaTurn:
        """Answer one message: ask Rasa (waiting out an outage), store and deliver the replies.

        ``progress`` is the entry's record (kefu/pipeline/progress.py): a step it holds is not done again.
        """
        progress = progress or EntryProgress()
        turn = progress.turn
        if turn is None:
            if progress.has("held") or await self._held(message, progress):
                return HELD_TURN
            if self.handoff is not None:
                self.handoff.read_ahead(message)  # the handoff classifier reads the turn while Rasa answers it
            try:
                turn = await self._ask_rasa(message, self._metadata(message))
            except BotUnavailable:
                assert self.outage is not None
                await self.outage.hand_over(message, progress)  # a person is offered; the bot answers if none came
                await progress.mark("held")
                return HELD_TURN
            await progress.answered(turn)  # before anything is stored or sent: a replay never asks again
        await self.conversations.set_understanding(message.conversation_id, message.message_id, turn.understanding)
        if turn.slots.get("lang"):
            await self.conversations.set_language(message.conversation_id, str(turn.slots["lang"]))
        decision = await self._decide(message, turn, progress)
        if decision is not None and decision.handoff:
            await self._observe(message, turn, decision, progress)
            return turn  # a person takes over; the customer was told, the bot's replies are dropped
        for number, reply in enumerate(turn.replies, start=1):
            if number <= progress.delivered:
                continue
            # The reply's id follows from the message and its place in the turn: a replayed entry that delivers
            # it again (a worker killed between sending and recording) sends the same id, which clients drop.
            await self.delivery.deliver(message.channel, OutboundMessage(
                conversation_id=message.conversation_id, text=reply.text, buttons=reply.buttons,
                message_id=f"{message.message_id}.{number}", reply_to=message.message_id,
            ))
            await progress.delivered_up_to(number)
        if decision is not None and decision.offer and not progress.has("offered"):
            await self.handoff.offer(message, turn)  # after the bot's answer: "shall I ask a colleague?"
            await progress.mark("offered")
        await self._observe(message, turn, decision, progress)
        return turn

    @staticmethod
    def _metadata(message: InboundMessage) -> dict[str, Any]:
        return {
            "customer_id": message.customer_id,
            "channel": message.channel,
            "conversation_id": message.conversation_id,
            "idempotency_key": idempotency_key(message),
        } | message.metadata

    async def _held(self, message: InboundMessage, progress: EntryProgress) -> bool:
        """People hold the conversation, or an interceptor answered: Rasa is not asked."""
        held = self.handoff is not None and await self.handoff.before(message)
        if held and self.outage is not None:
            await self.outage.held(message)  # held by a long Rasa outage's handoff: kept for the bot too
        for intercept in () if held else self.interceptors:
            if await intercept(message):
                held = True
                break
        if held:
            await progress.mark("held")
        return held

    async def _decide(self, message: InboundMessage, turn: RasaTurn, progress: EntryProgress) -> Decision | None:
        """The handoff decision, taken once per entry: a replay reads it back, and a handoff this very message
        opened (its record lost with Redis) is recognised by its trigger, so no second ticket opens."""
        if self.handoff is None:
            return None
        recorded, decision = progress.decision
        if recorded:
            return decision
        held = await self.handoff.store.holding(await self.conversations.live_id(message.conversation_id))
        if held is not None and held.trigger_id == message.message_id:
            decision = Decision("handoff", held.reason, held.priority, "replayed")
        else:
            decision = await self.handoff.after(message, turn)
        await progress.decided(decision)
        return decision

    async def _observe(self, message: InboundMessage, turn: RasaTurn, decision: Decision | None,
                       progress: EntryProgress) -> None:
        if progress.has("observed"):
            return
        for observe in self.observers:
            await observe(message, turn, decision)
        await progress.mark("observed")

    async def _ask_rasa(self, message: InboundMessage, metadata: dict) -> RasaTurn:
        """Rasa's answer, waiting out an outage; past ``OutageSettings.bot_unavailable_after_s`` of it (shared
        by every process, or this message's own wait) BotUnavailable: a person is offered instead."""
        attempt = 0
        waiting_since = time.time()
        while True:
            try:
                # A pressed button sends its intent payload; the transcript keeps the button's title.
                text = message.metadata.get("payload") or message.text
                if self.handoff is not None:  # a hand-back whose resume failed: resume first, or wait for Rasa
                    await self.handoff.ensure_resumed(message.conversation_id)
                turn = await self.rasa.handle(message.conversation_id, text, metadata)
            except RasaUnavailable as error:
                log.warning("conversation %s: Rasa unavailable (%s)", message.conversation_id, error)
                if self.outage is not None and await self.outage.failed(waiting_since):
                    raise BotUnavailable(str(error)) from None
                if attempt == 0:
                    await self._tell_unavailable(message)
                await asyncio.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
                attempt += 1
                continue
            if self.outage is not None:
                await self.outage.answered()
            return turn

    async def _tell_unavailable(self, message: InboundMessage) -> None:
        record = await self.conversations.record(message.conversation_id)
        lang = language_of(message.text, record.get("lang"))
        await self.delivery.deliver(message.channel, OutboundMessage(
            conversation_id=message.conversation_id, text=t("gateway.unavailable", lang), role="system"
        ))


async def _repeat(step: Callable[[], Awaitable[Any]], every_s: float, what: str) -> None:
    """Run a background step every ``every_s`` until cancelled; a failure is logged and tried again later."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a background loop's boundary: logged, tried again later
            _raise_if_cancelled()
            log.warning("%s: %s; trying again later", what, describe(error))
        await asyncio.sleep(every_s)


def by_conversation(entries: Sequence[tuple[str, Mapping[str, str]]]) -> list[list[tuple[str, Mapping[str, str]]]]:
    """A batch of inbox entries split per conversation, each in stream order (an unreadable entry alone)."""
    groups: dict[str, list[tuple[str, Mapping[str, str]]]] = {}
    for entry_id, fields in entries:
        try:
            conversation = parse_entry(fields).conversation_id
        except (KeyError, TypeError, ValueError):
            conversation = f"unreadable:{entry_id}"
        groups.setdefault(conversation, []).append((entry_id, fields))
    return list(groups.values())
