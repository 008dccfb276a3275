"""Order operations are done once per customer message (issue 9, defect 4): an action Rasa runs again for the
same message (its tracker was not saved after the first run, or the turn was replayed) asks the order backend
with the same idempotency key, so the shop acts once and the customer hears the same answer."""
from __future__ import annotations

import dataclasses

import pytest
import redis.asyncio as aioredis

from tests.actions.conftest import Conversation

pytestmark = pytest.mark.usefixtures("services")


async def _requests(redis: aioredis.Redis) -> int:
    return int(await redis.get("kefu:demo:request:counter") or 0)


async def test_a_confirmation_run_twice_for_one_message_books_one_return(redis_client: aioredis.Redis) -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("DD20261104006 我想换货", "return_exchange", metadata={"idempotency_key": "k-ask"})
    before_yes = dict(convo.slots)
    booked = await convo.say("好的", "affirm", metadata={"idempotency_key": "k-yes"})
    # Rasa runs the action again for the same message, from the tracker as it was before the first run.
    rerun = dataclasses.replace(convo, slots=before_yes)
    again = await rerun.say("好的", "affirm", metadata={"idempotency_key": "k-yes"})
    assert await _requests(redis_client) == 1
    assert again.text == booked.text and "AS000001" in booked.text


async def test_a_new_message_is_a_new_operation(redis_client: aioredis.Redis) -> None:
    for key in ("k-1", "k-2"):
        convo = Conversation(customer_id="c1001", conversation_id=f"conv-{key}")
        await convo.say("DD20261104005 帮我开张发票 个人", "invoice", metadata={"idempotency_key": key})
    assert await _requests(redis_client) == 2


async def test_a_cancel_confirmed_twice_for_one_message_cancels_once(
    redis_client: aioredis.Redis,
) -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("帮我把订单DD20261104002取消掉", "cancel_order", metadata={"idempotency_key": "c-ask"})
    before_yes = dict(convo.slots)
    done = await convo.say("确认", "affirm", metadata={"idempotency_key": "c-yes"})
    order = await redis_client.get("kefu:demo:order:DD20261104002")
    rerun = await dataclasses.replace(convo, slots=before_yes).say("确认", "affirm",
                                                                   metadata={"idempotency_key": "c-yes"})
    assert await redis_client.get("kefu:demo:order:DD20261104002") == order  # not cancelled a second time
    assert "DD20261104002" in done.text and "DD20261104002" in rerun.text  # the re-run sees it cancelled
