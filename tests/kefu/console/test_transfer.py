"""Transfer to a named agent or back into a team's queue; safety reports wait for the safety team first."""
from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.cli.main import main
from kefu.console.users import UserStore
from kefu.core.conversations import ConversationStore
from kefu.core.tickets import TicketStore
from kefu.handoff.state import Handoff, HandoffStore
from kefu.handoff.teams import team_for
from tests.helpers.console import add_user, signed_in
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def open_handoff(redis: aioredis.Redis, visitor: str, reason: str = "complaint") -> Handoff:
    """A waiting handoff of a web-chat visitor with its ticket, as HandoffManager.open stores them."""
    priority = "urgent" if reason == "safety" else "high"
    text = "my charger caught fire" if reason == "safety" else "I want to complain"
    ticket = await TicketStore(redis).create(None, f"visitor:{visitor}", reason, priority, text, "web")
    handoff = Handoff(
        ticket_id=ticket.id, conversation_id=f"visitor:{visitor}", customer_id="", channel="web", lang="en",
        reason=reason, priority=priority, trigger_id="m1", trigger_text=text, created_at=time.time(),
        team=team_for(reason),
    )
    await HandoffStore(redis).open(handoff, {})
    return handoff


def queued_ids(board: dict) -> list[str]:
    return [item["ticket_id"] for item in board["queue"]]


async def test_transfer_to_an_agent_reaches_them_live_and_tells_the_customer_nothing(
    console: str, redis_url: str, redis: aioredis.Redis  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    handoff = await open_handoff(redis, "v1")
    ticket = handoff.ticket_id
    async with signed_in(console, "ann", ann) as first, signed_in(console, "bob", bob) as second:
        await second.connect()
        assert (await first.act(ticket, "claim"))[0] == 200
        before = await ConversationStore(redis).transcript(handoff.conversation_id)

        status, body = await first.act(ticket, "transfer", to="bob")
        assert status == 200 and body["result"]["agent"] == "bob" and body["result"]["status"] == "assigned"
        event = await second.wait_for(lambda e: e["type"] == "claimed" and e["item"]["agent"] == "bob", 10)
        assert event["by"] == "ann" and event["item"]["ticket_id"] == ticket

        assert (await second.get(f"/console/api/tickets/{ticket}"))[0] == 200
        assert (await first.get(f"/console/api/tickets/{ticket}"))[0] == 404  # no longer ann's to see
        assert (await first.act(ticket, "reply", text="still me"))[0] == 404
        assert (await first.act(ticket, "transfer", to="ann"))[0] == 404
        assert await ConversationStore(redis).transcript(handoff.conversation_id) == before
        assert (await second.act(ticket, "reply", text="Hi, Bob here."))[0] == 200
        assert (await first.act(ticket, "transfer", to="nobody"))[0] == 404  # not hers to see any more


async def test_transfer_to_a_team_puts_it_in_that_teams_queue(
    console: str, redis_url: str, redis: aioredis.Redis  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    sam = await add_user(redis_url, "sam", team="safety")
    sue = await add_user(redis_url, "sue", "supervisor")
    handoff = await open_handoff(redis, "v2")
    ticket = handoff.ticket_id
    async with signed_in(console, "ann", ann) as holder, signed_in(console, "bob", bob) as other, signed_in(
        console, "sam", sam
    ) as member, signed_in(console, "sue", sue) as supervisor:
        for agent in (holder, other, member):
            await agent.connect()
        assert (await holder.act(ticket, "claim"))[0] == 200
        before = await ConversationStore(redis).transcript(handoff.conversation_id)

        assert (await holder.act(ticket, "transfer", team="no-such-team"))[0] == 409
        status, body = await holder.act(ticket, "transfer", team="safety")
        assert status == 200
        assert (body["result"]["status"], body["result"]["agent"], body["result"]["team"]) == ("waiting", "", "safety")
        queued = await member.wait_for(lambda e: e["type"] == "queued", 10)
        assert (queued["item"]["ticket_id"], queued["by"]) == (ticket, "ann")
        # Everyone else's board drops it: it waits for the safety team, one of whom is online.
        for agent in (holder, other):
            routed = await agent.wait_for(lambda e: e["type"] == "routed", 10)
            assert routed == {"type": "routed", "ticket_id": ticket, "team": "safety"}

        assert queued_ids((await member.get("/console/api/queue"))[1]) == [ticket]
        assert queued_ids((await other.get("/console/api/queue"))[1]) == []
        assert queued_ids((await supervisor.get("/console/api/queue"))[1]) == [ticket]
        assert await HandoffStore(redis).position(ticket) == 1
        assert await ConversationStore(redis).transcript(handoff.conversation_id) == before

        status, body = await other.act(ticket, "claim")
        assert status == 409 and body["error"] == "team"
        assert (await member.act(ticket, "claim"))[0] == 200
        board = (await supervisor.get("/console/api/queue"))[1]
        assert [(i["ticket_id"], i["agent"]) for i in board["assigned"]] == [(ticket, "sam")]
        assert (await supervisor.get(f"/console/api/tickets/{ticket}"))[0] == 200


async def test_safety_reports_are_only_for_the_safety_team_and_supervisors(
    console: str, redis_url: str, redis: aioredis.Redis  # noqa: F811
) -> None:
    """Issue 9 #7: the safety team's tickets never fall back to everyone (the on-call rule pages instead);
    before, a general agent saw and took one whenever no safety agent was online."""
    ann, sam = await add_user(redis_url, "ann"), await add_user(redis_url, "sam", team="safety")
    sue = await add_user(redis_url, "sue", "supervisor")
    assert team_for("safety") == "safety" and team_for("complaint") == ""
    ticket = (await open_handoff(redis, "v3", "safety")).ticket_id
    async with signed_in(console, "ann", ann) as general, signed_in(console, "sam", sam) as member, signed_in(
        console, "sue", sue
    ) as supervisor:
        await general.connect()
        # No safety agent online: still not a general agent's to see or take.
        assert queued_ids((await general.get("/console/api/queue"))[1]) == []
        assert (await general.get(f"/console/api/tickets/{ticket}"))[0] == 404
        assert (await general.act(ticket, "claim"))[1]["error"] == "team"
        assert (await general.act(ticket, "close", resolution="resolved"))[1]["error"] == "team"
        assert queued_ids((await supervisor.get("/console/api/queue"))[1]) == [ticket]
        assert (await supervisor.get(f"/console/api/tickets/{ticket}"))[0] == 200
        await member.connect()
        await general.wait_for(lambda e: e["type"] == "presence" and e["agent"] == "sam", 10)
        assert queued_ids((await member.get("/console/api/queue"))[1]) == [ticket]
        # The only safety agent steps away: still the safety team's.
        assert (await member.post("/console/api/presence", {"status": "away"}))[0] == 200
        assert queued_ids((await general.get("/console/api/queue"))[1]) == []
        assert (await member.act(ticket, "claim"))[0] == 200
        assert (await general.get(f"/console/api/tickets/{ticket}"))[0] == 404


async def test_transfer_refused_without_a_session_or_the_csrf_token(
    console: str, redis_url: str, redis: aioredis.Redis  # noqa: F811
) -> None:
    ann = await add_user(redis_url, "ann")
    await add_user(redis_url, "bob")
    ticket = (await open_handoff(redis, "v4")).ticket_id
    path = console + f"/console/api/tickets/{ticket}/transfer"
    async with aiohttp.ClientSession() as anonymous:
        for body in ({"to": "bob"}, {"team": "safety"}):
            async with anonymous.post(path, json=body, headers={"Origin": console}) as response:
                assert response.status == 401
    async with signed_in(console, "ann", ann) as agent:
        assert (await agent.act(ticket, "claim"))[0] == 200
        for headers in ({"Origin": console}, {"Origin": "http://evil.example", "X-CSRF-Token": agent.csrf},
                        {"Origin": console, "X-CSRF-Token": "forged"}):
            async with agent.http.post(path, json={"team": "safety"}, headers=headers) as response:
                assert response.status == 403
    stored = await HandoffStore(redis).get(ticket)
    assert stored is not None and (stored.status, stored.agent, stored.team) == ("assigned", "ann", "")


async def test_the_transfer_list_and_the_users_cli_team(
    console: str, redis_url: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KEFU_RASA_TOKEN", "x")
    monkeypatch.setenv("KEFU_IDENTITY_SECRET", "y")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    assert await asyncio.to_thread(main, ["users", "add", "sam", "--role", "agent", "--team", "fraud",
                                          "--password-stdin"]) == 0
    ann = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", ann) as agent:
        status, directory = await agent.get("/console/api/directory")
        assert status == 200 and directory["teams"] == ["fraud", "general", "safety"]
        assert {a["name"]: a["team"] for a in directory["agents"]} == {"ann": "general", "sam": "fraud"}
        assert (await agent.get("/console/api/me"))[1]["team"] == "general"
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        user = await UserStore(client).get("sam")
        assert user is not None and user.team == "fraud"
    finally:
        await client.aclose()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    assert await asyncio.to_thread(main, ["users", "add", "tim", "--role", "agent", "--team", "Bad Team!",
                                          "--password-stdin"]) == 2


