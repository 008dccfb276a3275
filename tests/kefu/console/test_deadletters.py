"""The dead letters in the console API (kefu/console/deadletters.py): supervisors see them all, an agent only those
whose conversation they may see, and acts only on those they hold; marking handled or retrying happens once, a
retry queues the message into the inbox exactly once; nothing without a session."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core import keys
from kefu.core.deadletter import DeadLetter, DeadLetters
from kefu.core.inbox import shard_of
from kefu.core.messages import InboundMessage
from kefu.handoff.manager import HandoffManager
from tests.helpers.console import add_user, signed_in
from tests.helpers.gateway import running_gateway
from tests.kefu.console.rig import manager, opened  # noqa: F401 - the manager fixture
from tests.kefu.console.test_dashboard import gateway_settings

SCRIPT_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> 订单呢'


@pytest.fixture
async def console_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = gateway_settings(redis_url)
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def dead_letter(redis: aioredis.Redis, conversation_id: str, text: str, channel: str = "web") -> str:
    """A message given up on, as the pipeline's boundary stores it (kefu/pipeline/boundary.py)."""
    message = InboundMessage(channel=channel, sender=conversation_id, conversation_id=conversation_id, text=text,
                             message_id=uuid.uuid4().hex)
    return await DeadLetters(redis).add(DeadLetter(shard=0, entry_id="1-0", message=message.to_json(),
                                                   error="RasaProtocolError: not a list", attempts=4,
                                                   conversation_id=conversation_id))


async def inbox_length(redis: aioredis.Redis, conversation_id: str, shards: int) -> int:
    return await redis.xlen(keys.inbox_stream(shard_of(conversation_id, shards)))


async def test_who_sees_and_acts_on_which_dead_letter(
    console_gateway: Settings, redis_client: aioredis.Redis, manager: HandoffManager,  # noqa: F811
) -> None:
    base = console_gateway.public_origin
    held = await opened(manager, "cust:c1001", "我要找人工", reason="human", customer_id="c1001")
    mine = await dead_letter(redis_client, "cust:c1001", SCRIPT_TEXT)
    other = await dead_letter(redis_client, "cust:c1002", "where is it", channel="telegram")
    sue, ann = await add_user(console_gateway.redis_url, "sue", role="supervisor"), await add_user(
        console_gateway.redis_url, "ann")
    async with signed_in(base, "sue", sue) as supervisor, signed_in(base, "ann", ann) as agent:
        status, listed = await supervisor.get("/console/api/deadletters?lang=en")
        assert status == 200 and [letter["id"] for letter in listed["letters"]] == [other, mine]
        first = listed["letters"][1]
        assert (first["text"], first["channel"], first["conversation_id"]) == (SCRIPT_TEXT, "web", "cust:c1001")
        assert first["error"] == "RasaProtocolError: not a list" and first["state"] is None
        assert listed["texts"]["deadletters.retry"] == "Retry"

        # the agent sees the letter of a conversation routed to them, not the other one, and acts only once held
        status, seen = await agent.get("/console/api/deadletters")
        assert status == 200 and [letter["id"] for letter in seen["letters"]] == [mine]
        assert (await agent.post(f"/console/api/deadletters/{other}/retry"))[0] == 404
        assert (await agent.post(f"/console/api/deadletters/{mine}/retry"))[0] == 404
        await manager.claim(held.ticket_id, "ann", "Ann")

        before = await inbox_length(redis_client, "cust:c1001", console_gateway.shards)
        status, retried = await agent.post(f"/console/api/deadletters/{mine}/retry")
        assert status == 200 and retried["letter"]["state"]["status"] == "retried"
        assert retried["letter"]["state"]["by"] == "ann"
        again = await agent.post(f"/console/api/deadletters/{mine}/retry")
        assert again[0] == 409 and again[1]["error"] == "done"
        assert (await supervisor.post(f"/console/api/deadletters/{mine}/handled"))[0] == 409
        assert await inbox_length(redis_client, "cust:c1001", console_gateway.shards) == before + 1
        entries = await redis_client.xrange(keys.inbox_stream(shard_of("cust:c1001", console_gateway.shards)))
        assert InboundMessage.from_json(entries[-1][1]["message"]).text == SCRIPT_TEXT

        status, handled = await supervisor.post(f"/console/api/deadletters/{other}/handled")
        assert status == 200 and handled["letter"]["state"]["status"] == "handled"
        assert await inbox_length(redis_client, "cust:c1002", console_gateway.shards) == 0
        assert (await supervisor.post("/console/api/deadletters/9-9/retry"))[0] == 404
        assert (await supervisor.post("/console/api/deadletters/not-an-id/retry"))[0] == 404
        assert (await supervisor.post(f"/console/api/deadletters/{other}/delete"))[0] == 404
        assert (await supervisor.get("/console/api/deadletters?lang=fr"))[0] == 400


async def test_visitor_ids_never_reach_the_console(console_gateway: Settings, redis_client: aioredis.Redis) -> None:
    base = console_gateway.public_origin
    await dead_letter(redis_client, "visitor:secret-bearer-id", "hello")
    sue = await add_user(console_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", sue) as supervisor:
        async with supervisor.http.get(base + "/console/api/deadletters") as response:
            body = await response.text()
    assert response.status == 200 and "secret-bearer-id" not in body and "visitor #" in body


async def test_nothing_without_a_session(console_gateway: Settings) -> None:
    base = console_gateway.public_origin
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/console/api/deadletters") as response:
            assert response.status == 401
        async with http.post(base + "/console/api/deadletters/1-0/retry", headers={"Origin": base}) as response:
            assert response.status in {401, 403}
        async with http.get(base + "/console/dead-letters", allow_redirects=False) as response:
            assert response.status == 302
