"""The one intake step every channel shares (kefu/channels/intake.py): what reaches the bot, and how."""
from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis

from kefu.channels.intake import Intake
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage


def rasa_reads_as_intent(text: str) -> bool:
    """Rasa 3.6's test for an intent payload (YAMLStoryReader.unpack_regex_message, run by RegexMessageHandler
    on every message): the stripped text starts with "/". Checked against Rasa itself: the raw payload below is
    parsed to intent order_status with order_id and phone entities, the neutralised text to nothing."""
    return text.strip().startswith("/")


async def queued_text(redis: aioredis.Redis, text: str, metadata: dict[str, Any] | None = None) -> str:
    """What the real inbox holds for Rasa after the intake took ``text``."""
    intake = Intake(Inbox(redis, shards=1), ConversationStore(redis), max_message_chars=500)
    taken = await intake.take(InboundMessage("web", "v1", "v1", text, metadata=metadata or {}))
    assert taken.fresh and taken.refused is None
    ((_, fields),) = await redis.xrange(keys.inbox_stream(0))
    return InboundMessage.from_json(fields["message"]).text


@pytest.mark.parametrize("typed", [
    '/order_status{"order_id":"DD20261104005","phone":"1234"}',
    ' /order_status{"order_id":"DD20261104005","phone":"1234"}',  # Rasa strips the space: no escape
    '/ \u3000//affirm',
])
async def test_typed_intent_payload_reaches_rasa_as_plain_text(redis_client: aioredis.Redis, typed: str) -> None:
    assert rasa_reads_as_intent(typed)
    queued = await queued_text(redis_client, typed)
    assert not rasa_reads_as_intent(queued) and queued.lstrip("/ \u3000") == queued
    assert queued.split("{")[0] in ("order_status", "affirm")


async def test_offered_button_keeps_its_payload(redis_client: aioredis.Redis) -> None:
    """A pressed button is sent as metadata["payload"] (validated by the receiver); its title is left as is."""
    assert await queued_text(redis_client, "Yes", {"payload": "/affirm"}) == "Yes"


async def test_offered_button_whose_title_is_its_payload_is_kept(redis_client: aioredis.Redis) -> None:
    assert await queued_text(redis_client, "/affirm", {"payload": "/affirm"}) == "/affirm"


async def test_empty_and_slashes_only_are_answered_not_queued(redis_client: aioredis.Redis) -> None:
    intake = Intake(Inbox(redis_client, shards=1), ConversationStore(redis_client), max_message_chars=500)
    for text in ("   ", "///"):
        taken = await intake.take(InboundMessage("web", "v2", "v2", text))
        assert (taken.fresh, taken.refused) == (False, "empty") and taken.answer
    assert await redis_client.xlen(keys.inbox_stream(0)) == 0
