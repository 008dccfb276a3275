"""The pipeline's error boundary: what a failure while answering one inbox entry means, and giving up on one.

Three kinds of failure, three answers:

- Redis unreachable (connection refused or reset, timeouts, still loading its data): nothing can be stored, so
  the shard waits and reads its pending entries again; no entry is blamed.
- Redis lost the consumer group (``NOGROUP``: restarted without its data, flushed): the group is created again
  and the shard carries on.
- Anything else (a bug in a handler or an observer, a malformed answer from Rasa, Redis refusing writes with
  ``MISCONF``/``OOM``/``READONLY``): the entry is retried with backoff ``ENTRY_RETRY_DELAYS_S``; then it is
  given up on: kept in the dead-letter stream, a ``bot_error`` handoff opens so a person answers it (it is in the
  console's queue, and the customer is told in their language), and the shard goes on with the next entry.
  When even giving up fails (Redis still refuses writes), the shard backs off and tries the entry again.

Rasa being down is none of these: the pipeline waits for it inside the turn (kefu/pipeline/pipeline.py).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from kefu.core.deadletter import DeadLetter, DeadLetters
from kefu.core.delivery import Delivery
from kefu.core.i18n import language_of, t
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.handoff.decision import Decision

if TYPE_CHECKING:
    from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

ENTRY_RETRY_DELAYS_S = (0.5, 1.0, 2.0)
# A shard whose loop failed (Redis refusing, a lost group) waits this long before it reads again, doubling.
SHARD_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
BOT_ERROR = "bot_error"
BOT_ERROR_PRIORITY = "high"
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)


def is_redis_down(error: BaseException) -> bool:
    return isinstance(error, REDIS_DOWN)


def is_nogroup(error: BaseException) -> bool:
    return isinstance(error, aioredis.ResponseError) and str(error).startswith("NOGROUP")


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def parse_entry(fields: Mapping[str, str]) -> InboundMessage:
    """The inbox entry's message; raises KeyError/TypeError/ValueError for one that is unreadable."""
    return InboundMessage.from_json(fields["message"])


class GiveUp:
    """Moves an entry to the dead-letter stream and puts a person on it."""

    def __init__(self, dead_letters: DeadLetters, delivery: Delivery, handoff: HandoffManager | None) -> None:
        self.dead_letters = dead_letters
        self.delivery = delivery
        self.handoff = handoff

    async def __call__(self, shard: int, entry_id: str, fields: Mapping[str, str], error: BaseException,
                       attempts: int) -> None:
        try:
            message: InboundMessage | None = parse_entry(fields)
        except (KeyError, TypeError, ValueError):
            message = None
        await self.dead_letters.add(DeadLetter(
            shard=shard, entry_id=entry_id, message=str(fields.get("message", dict(fields)))[:20_000],
            error=describe(error), attempts=attempts, conversation_id=message.conversation_id if message else "",
        ))
        log.error("shard %s: entry %s moved to the dead-letter stream after %s attempts: %s", shard, entry_id,
                  attempts, describe(error))
        if message is None:
            return
        try:
            await self._to_a_person(message, error)
        except Exception as failure:  # the failure may be in the handoff itself: never loop on it
            if is_redis_down(failure):
                raise  # nothing can be stored now: the entry is tried again when Redis is back
            log.error("shard %s: entry %s could not be handed to a person: %s", shard, entry_id, describe(failure),
                      exc_info=(type(failure), failure, failure.__traceback__))

    async def _to_a_person(self, message: InboundMessage, error: BaseException) -> None:
        """The customer hears that a person will answer, and the message waits in the console's queue."""
        if self.handoff is not None and await self.handoff.store.holding(message.conversation_id):
            return  # people hold it already: the message is on their screen (or will be, on the next one)
        record = await self.delivery.conversations.record(message.conversation_id)
        lang = language_of(message.text, record.get("lang"))
        await self.delivery.deliver(message.channel, OutboundMessage(
            conversation_id=message.conversation_id, text=t("reliability.bot_error", lang), role="system"))
        if self.handoff is not None:
            decision = Decision("handoff", BOT_ERROR, BOT_ERROR_PRIORITY, "pipeline", evidence=describe(error))
            await self.handoff.open(message, decision, {"lang": lang})
