"""The pipeline's error boundary and its idempotency (issue 9, defects 3 and 4), on the real Redis.

A failure while answering one message never stops the shard: the message is retried, then kept in the
dead-letter stream and handed to a person; Redis losing the consumer group or refusing writes is survived.
A message replayed after Rasa answered it is not sent to Rasa again; the lease is checked before every entry,
and every process reads under its own consumer name, claiming what a crashed one left.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from kefu.config.retention import RetentionSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.deadletter import DeadLetters
from kefu.core.delivery import Delivery
from kefu.core.i18n import t
from kefu.core.inbox import GROUP, Inbox, idempotency_key
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.dialogue.rasa_client import RasaClient, RasaTurn
from kefu.handoff.decision import Decision
from kefu.ops.stack import free_port
from kefu.pipeline.boundary import ENTRY_RETRY_DELAYS_S
from kefu.pipeline.pipeline import Pipeline, by_conversation
from tests.helpers.delivery import CHANNELS, RecordingSender
from tests.helpers.pipeline_rig import Rig, eventually, running_pipeline, user_turns

SHIPPING = "运费怎么算"
RETURNS = "退货政策是什么"


async def dead_letters_for(redis: aioredis.Redis, conversation_id: str) -> list[Any]:
    return [letter for letter in await DeadLetters(redis).recent() if letter.conversation_id == conversation_id]


async def assert_handed_to_a_person(rig: Rig, message: InboundMessage, error: str, lang: str = "zh") -> None:
    """The message is in the dead-letter stream with its error, waits in the agents' queue as a ``bot_error``
    handoff, and the customer was told in their language that a person will answer."""
    async def letters() -> list[Any]:
        return await dead_letters_for(rig.redis, message.conversation_id)
    (letter,) = await eventually(letters, what="the dead letter")
    assert error in letter.error and letter.attempts == len(ENTRY_RETRY_DELAYS_S) + 1
    assert letter.entry_id and message.message_id in letter.message
    held = await eventually(lambda: rig.manager.store.holding(message.conversation_id), what="the handoff")
    assert held.reason == "bot_error" and held.trigger_id == message.message_id
    assert held.ticket_id in [h.ticket_id for h in await rig.manager.store.queue()]
    async def told() -> list[str]:
        system = [m.text for m in rig.to(message.conversation_id, "system")]
        return system if any(held.ticket_id in text for text in system) else []
    system = await eventually(told, what="the customer told of the ticket")
    assert t("reliability.bot_error", lang) in system


async def test_a_bug_in_a_handler_hands_the_message_to_a_person_and_the_shard_goes_on(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    async def buggy_observer(message: InboundMessage, turn: RasaTurn, decision: Decision | None) -> None:
        if message.text == SHIPPING:
            raise RuntimeError("a bug in a turn observer")

    async with running_pipeline(redis_client, live_rasa, observers=[buggy_observer]) as rig:
        broken = await rig.say(SHIPPING)
        fine = await rig.say(RETURNS)  # same shard, queued behind the broken one
        await rig.answered(fine.conversation_id)
        await assert_handed_to_a_person(rig, broken, "RuntimeError: a bug in a turn observer")
        # The retries went on from where the entry was: Rasa was asked once, its answer delivered once.
        assert len(await user_turns(redis_client, broken.conversation_id)) == 1
        bot = [m.text for m in rig.to(broken.conversation_id, "bot")]
        assert bot and len(bot) == len(set(bot))
        await eventually(lambda: _acknowledged(redis_client), what="both entries acknowledged")


@pytest.fixture
async def malformed_rasa() -> AsyncIterator[RasaClient]:
    """Rasa's protocol peer on loopback, answering some turns in shapes that are not a turn."""
    async def turn(request: web.Request) -> web.Response:
        text = (await request.json())["message"]
        if text == "not a list":
            return web.json_response({"messages": "oops", "latest_message": {}, "slots": {}})
        if text == "not json":
            return web.Response(text="<html>gateway</html>", content_type="text/html")
        return web.json_response({"messages": [{"recipient_id": "x", "text": "好的"}],
                                  "latest_message": {"intent": {"name": "policy", "confidence": 0.9}},
                                  "slots": {"lang": "zh"}})

    async def event(request: web.Request) -> web.Response:  # pause/resume of a handoff
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhooks/kefu/turn", turn)
    app.router.add_post("/webhooks/kefu/control", event)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        yield RasaClient(http, f"http://127.0.0.1:{port}", "token", timeout_s=5)
    await runner.cleanup()


async def test_a_malformed_answer_from_rasa_hands_the_message_to_a_person_and_the_shard_goes_on(
    redis_client: aioredis.Redis, malformed_rasa: RasaClient,
) -> None:
    async with running_pipeline(redis_client, malformed_rasa) as rig:
        shape = await rig.say("not a list")
        html = await rig.say("not json")
        fine = await rig.say("运费")
        assert [m.text for m in await rig.answered(fine.conversation_id)] == ["好的"]
        await assert_handed_to_a_person(rig, shape, "RasaProtocolError", "en")  # told in the customer's language
        await assert_handed_to_a_person(rig, html, "RasaProtocolError", "en")


async def test_a_failure_in_the_handoff_itself_still_lets_the_shard_go_on(
    redis_client: aioredis.Redis, malformed_rasa: RasaClient,
) -> None:
    """Giving up must not fail the same way as the message did (a bug in the handoff manager): the entry stays
    in the dead-letter stream, the customer was told, and the next message is answered."""
    async with running_pipeline(redis_client, malformed_rasa) as rig:
        async def broken_open(*args: Any, **kwargs: Any) -> None:
            raise KeyError("a bug in the handoff manager")
        rig.manager.open = broken_open  # type: ignore[method-assign]
        shape = await rig.say("not a list")
        fine = await rig.say("运费")
        await rig.answered(fine.conversation_id)  # answered beside the failing one, not after its retries
        assert len(await eventually(lambda: dead_letters_for(redis_client, shape.conversation_id),
                                    what="the dead letter")) == 1
        # the dead letter is written first, then the customer is told: wait for the telling, not just the letter

        async def told() -> bool:
            return t("reliability.bot_error", "en") in [m.text for m in rig.to(shape.conversation_id, "system")]

        assert await eventually(told, timeout=10, what="the customer told")


async def test_a_consumer_group_lost_with_redis_data_is_created_again(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        first = await rig.say(SHIPPING)
        await rig.answered(first.conversation_id)
        await redis_client.delete(keys.inbox_stream(0))  # Redis lost the stream and its group (NOGROUP next)
        second = await rig.say(RETURNS)  # the inbox creates the stream again, without the group
        await rig.answered(second.conversation_id)
        await redis_client.xgroup_destroy(keys.inbox_stream(0), GROUP)  # and once more, the group alone
        third = await rig.say(SHIPPING)
        await rig.answered(third.conversation_id)


async def test_redis_refusing_writes_is_waited_out_and_the_message_answered_once(
    redis_client: aioredis.Redis, live_rasa: RasaClient, caplog: pytest.LogCaptureFixture,
) -> None:
    """OOM (``maxmemory`` reached under ``noeviction``) in the middle of a turn: every write fails, so the entry's
    retries fail and giving up on it fails too; the shard's loop survives that, and once Redis accepts writes
    again the message is answered (and not given up on)."""
    caplog.set_level(logging.WARNING, logger="kefu.pipeline.pipeline")
    calls: list[str] = []

    async def out_of_memory_on_first_sight(message: InboundMessage) -> bool:
        calls.append(message.message_id)
        if len(calls) == 1:
            await redis_client.config_set("maxmemory", "1")
        return False

    def shard_failures() -> list[str]:
        return [r.getMessage() for r in caplog.records if "the shard goes on after a pause" in r.getMessage()]

    try:
        async with running_pipeline(redis_client, live_rasa, interceptors=[out_of_memory_on_first_sight]) as rig:
            message = await rig.say(SHIPPING)

            async def gave_up_and_survived() -> bool:
                return len(calls) == len(ENTRY_RETRY_DELAYS_S) + 1 and len(shard_failures()) >= 2
            await eventually(gave_up_and_survived, what="the shard retrying through the outage")
            assert all("OutOfMemoryError" in failure for failure in shard_failures())
            await redis_client.config_set("maxmemory", "0")
            bot = await rig.answered(message.conversation_id)
            assert len({m.text for m in bot}) == len(bot)
            assert not await dead_letters_for(redis_client, message.conversation_id)
    finally:
        await redis_client.config_set("maxmemory", "0")


class FlakySender(RecordingSender):
    """A channel whose first send fails as a Redis blip would (web chat publishes replies through Redis)."""

    failures = 1

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        if message.role == "bot" and FlakySender.failures:
            FlakySender.failures -= 1
            raise aioredis.ConnectionError("Connection reset by peer")
        await super().send_text(conversation_id, message)


async def test_a_redis_blip_after_rasa_answered_does_not_ask_rasa_again(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    told: list[OutboundMessage] = []
    FlakySender.failures = 1
    delivery = Delivery(ConversationStore(redis_client), {name: FlakySender(name, told) for name in CHANNELS})
    async with running_pipeline(redis_client, live_rasa, delivery_and_told=(delivery, told)) as rig:
        message = await rig.say(SHIPPING)
        bot = await rig.answered(message.conversation_id)
        await eventually(lambda: _acknowledged(redis_client), what="the entry acknowledged")
    assert FlakySender.failures == 0  # the blip happened, after Rasa had answered
    assert len(await user_turns(redis_client, message.conversation_id)) == 1
    assert len({m.text for m in bot}) == len(bot)


async def test_each_bot_reply_names_the_message_it_answers(redis_client: aioredis.Redis,
                                                            live_rasa: RasaClient) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        message = await rig.say(SHIPPING)
        bot = await rig.answered(message.conversation_id)
    assert [reply.message_id for reply in bot] == [f"{message.message_id}.{n}" for n in range(1, len(bot) + 1)]
    stored = [json.loads(raw) for raw in await redis_client.lrange(keys.transcript(message.conversation_id), 0, -1)]
    assert [entry.get("reply_to") for entry in stored if entry["role"] == "bot"] == [message.message_id] * len(bot)


async def _acknowledged(redis: aioredis.Redis) -> bool:
    return await redis.xlen(keys.inbox_stream(0)) == 0


async def test_every_turn_reaches_rasa_and_the_actions_with_its_idempotency_key(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        message = await rig.say(SHIPPING)
        await rig.answered(message.conversation_id)
    (turn,) = await user_turns(redis_client, message.conversation_id)
    # The user event's metadata is what the action server receives as tracker.latest_message["metadata"].
    assert turn["metadata"]["idempotency_key"] == idempotency_key(message)
    again = InboundMessage(channel="web", sender="x", conversation_id="c", text="", message_id=message.message_id)
    other = InboundMessage(channel="wechat", sender="x", conversation_id="c", text="", message_id=message.message_id)
    assert idempotency_key(again) == idempotency_key(message) != idempotency_key(other)


def _dead_rasa(http: aiohttp.ClientSession) -> RasaClient:
    return RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)


async def test_the_lease_is_checked_before_every_entry(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture,
) -> None:
    """Another process took the shard while this one answered an entry: the next entry (already read in the
    same batch) is left to the new holder instead of being answered twice."""
    caplog.set_level(logging.WARNING, logger="kefu.pipeline.pipeline")
    handled: list[str] = []

    async def answered_here(message: InboundMessage) -> bool:
        handled.append(message.text)
        if message.text == "first":
            await redis_client.set(keys.shard_lease(0), "another-process", px=60_000)
        return True

    inbox = Inbox(redis_client, 1)
    await inbox.ensure_groups()
    for text in ("first", "second"):  # one conversation's, queued before the shard is served: one batch, in order
        assert await inbox.submit(InboundMessage(channel="web", sender="v", conversation_id="visitor:v", text=text))
    async with aiohttp.ClientSession() as http:
        async with running_pipeline(redis_client, _dead_rasa(http), interceptors=[answered_here]):
            async def lease_lost() -> bool:
                return any("lease lost" in record.getMessage() for record in caplog.records)
            await eventually(lease_lost, timeout=20, what="the lease check")
            assert handled == ["first"]
    assert await redis_client.xlen(keys.inbox_stream(0)) == 1  # "second" waits for the shard's new holder


async def test_each_process_reads_under_its_own_name_and_claims_what_a_crashed_one_left(
    redis_client: aioredis.Redis,
) -> None:
    handled: list[str] = []

    async def answered_here(message: InboundMessage) -> bool:
        handled.append(message.text)
        return True

    inbox = Inbox(redis_client, 1)
    await inbox.ensure_groups()
    stream = keys.inbox_stream(0)
    assert await inbox.submit(InboundMessage(channel="web", sender="v", conversation_id="visitor:v",
                                             text="left behind"))
    # A worker read it and died before acknowledging it, under its own consumer name (its lease expired).
    assert await redis_client.xreadgroup(GROUP, "old-host-4242-abcdef", {stream: ">"}, count=10)
    async with aiohttp.ClientSession() as http:
        async with running_pipeline(redis_client, _dead_rasa(http), interceptors=[answered_here]) as rig:
            await eventually(lambda: _acknowledged(redis_client), timeout=20, what="the left entry answered")
            assert handled == ["left behind"]
            consumers = [c["name"] for c in await redis_client.xinfo_consumers(stream, GROUP)]
            assert consumers == [rig.pipeline.owner]  # the dead one is forgotten; no shared "shard-N" name
            other = Pipeline(redis_client, rig.pipeline.rasa, rig.pipeline.delivery, 1)
            assert other.owner != rig.pipeline.owner


async def test_an_answered_entry_leaves_only_an_expiring_done_marker(redis_client: aioredis.Redis) -> None:
    """Retention (defect 11): the done marker expires after the configured time, the progress record goes."""
    async def answered_here(message: InboundMessage) -> bool:
        return True

    inbox = Inbox(redis_client, 1)
    await inbox.ensure_groups()
    assert await inbox.submit(InboundMessage(channel="web", sender="v", conversation_id="visitor:v", text="hi"))
    (entry_id, _), = (await redis_client.xrange(keys.inbox_stream(0)))
    async with aiohttp.ClientSession() as http:
        async with running_pipeline(redis_client, _dead_rasa(http), interceptors=[answered_here],
                                    retention=RetentionSettings(done_ttl_s=120)):
            await eventually(lambda: _acknowledged(redis_client), timeout=20, what="the entry answered")
    assert 0 < await redis_client.ttl(keys.entry_done(0, entry_id)) <= 120
    assert not await redis_client.exists(keys.entry_progress(0, entry_id))
    # Stopped, the pipeline gave its lease up (and its heartbeat): the next worker need not wait for it to expire.
    assert not await redis_client.exists(keys.shard_lease(0), keys.shard_heartbeat(0))


async def test_a_slow_conversation_does_not_hold_up_another_in_its_shard(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_conversation(message: InboundMessage) -> bool:
        if message.conversation_id != "visitor:slow":
            return False
        await release.wait()
        seen.append(message.text)
        return True  # handled here: Rasa is not asked

    async with running_pipeline(redis_client, live_rasa, shards=1, interceptors=[slow_conversation]) as rig:
        await rig.say("first", "visitor:slow")
        await rig.say("second", "visitor:slow")
        other = await rig.say(SHIPPING)
        assert await rig.answered(other.conversation_id)  # answered while the slow one still waits
        assert seen == []
        release.set()
        await eventually(lambda: _async(seen == ["first", "second"]), what="the slow conversation, in order")


def test_a_batch_is_split_per_conversation_in_stream_order() -> None:
    def entry(entry_id: str, conversation: str) -> tuple[str, dict[str, str]]:
        return entry_id, {"message": InboundMessage("web", "x", conversation, "hi").to_json()}

    batch = [entry("1-0", "a"), entry("2-0", "b"), entry("3-0", "a"), ("4-0", {}), ("5-0", {"message": "{"})]
    assert [[entry_id for entry_id, _ in group] for group in by_conversation(batch)] == [
        ["1-0", "3-0"], ["2-0"], ["4-0"], ["5-0"]]


async def _async(value: Any) -> Any:
    return value
