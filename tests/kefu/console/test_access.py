"""Console authorization (issue 9 #7), one rule per test, each of which the console before it failed: agents
see and act on what is routed to them or held by them; finished tickets are a supervisor's; closing, handing
back, noting and promising need the holder or a supervisor; consoles never receive a visitor's id."""
from __future__ import annotations

import json
import time

import redis.asyncio as aioredis

from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import HandoffStore
from tests.helpers.console import add_user, signed_in
from tests.kefu.console.rig import manager, opened, said  # noqa: F401  (fixture)
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)

VISITOR = "visitor:Secret-Bearer-Visitor-42"


async def test_a_finished_tickets_packet_is_a_supervisors_only(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    sue = await add_user(redis_url, "sue", "supervisor")
    ticket = (await opened(manager, "cust:c1001", "我要投诉", customer_id="c1001")).ticket_id
    async with signed_in(console, "ann", ann) as holder, signed_in(console, "bob", bob) as other, signed_in(
        console, "sue", sue
    ) as supervisor:
        assert (await holder.act(ticket, "claim"))[0] == 200
        assert (await holder.act(ticket, "close", resolution="resolved"))[0] == 200
        for agent in (holder, other):
            assert await agent.get(f"/console/api/tickets/{ticket}") == (404, {"error": "not_found"})
        status, packet = await supervisor.get(f"/console/api/tickets/{ticket}")
        assert status == 200 and packet["ticket"]["handoff_status"] == "closed"


async def test_only_the_holder_or_a_supervisor_closes_or_hands_back(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    sue = await add_user(redis_url, "sue", "supervisor")
    waiting = (await opened(manager, "cust:c1001", "我要投诉", customer_id="c1001")).ticket_id
    held = (await opened(manager, "cust:c1002", "I want to complain", customer_id="c1002")).ticket_id
    async with signed_in(console, "ann", ann) as holder, signed_in(console, "bob", bob) as other, signed_in(
        console, "sue", sue
    ) as supervisor:
        assert (await holder.act(held, "claim"))[0] == 200
        # Nobody holds the waiting one: an agent may take it, not close it or hand it back.
        assert await other.act(waiting, "close", resolution="resolved") == (409, {"error": "taken", "ticket": waiting})
        assert (await other.act(waiting, "handback"))[0] == 409
        assert (await other.act(held, "close", resolution="resolved"))[0] == 404  # not his to see either
        assert (await other.act(held, "handback"))[0] == 404
        store = HandoffStore(redis_client)
        assert ((await store.get(waiting)).status, (await store.get(held)).status) == ("waiting", "assigned")
        assert (await supervisor.act(waiting, "handback"))[0] == 200
        assert (await holder.act(held, "close", resolution="resolved"))[0] == 200


async def test_notes_and_follow_ups_need_the_holder_or_a_supervisor(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    sue = await add_user(redis_url, "sue", "supervisor")
    ticket = (await opened(manager, "cust:c1001", "我要投诉", customer_id="c1001")).ticket_id
    async with signed_in(console, "ann", ann) as holder, signed_in(console, "bob", bob) as teammate, signed_in(
        console, "sue", sue
    ) as supervisor:
        assert (await teammate.act(ticket, "note", text="I could write on anything"))[0] == 409  # waiting: nobody's
        assert (await holder.act(ticket, "claim"))[0] == 200
        # A colleague of the same team may follow it (team view) but not write on it.
        assert (await supervisor.act(ticket, "transfer", team="general"))[0] == 200
        assert (await holder.act(ticket, "claim"))[0] == 200
        assert (await teammate.get(f"/console/api/tickets/{ticket}"))[0] == 200
        assert (await teammate.act(ticket, "note", text="not mine"))[0] == 409
        assert (await teammate.act(ticket, "followup", due_at=time.time() + 600, what="call back"))[0] == 409
        assert (await teammate.act(ticket, "followup_done"))[0] == 409
        assert (await holder.act(ticket, "note", text="mine"))[0] == 200
        assert (await supervisor.act(ticket, "note", text="a supervisor's"))[0] == 200
        assert (await holder.act(ticket, "followup", due_at=time.time() + 600, what="call back"))[0] == 200
        notes = (await holder.get(f"/console/api/tickets/{ticket}"))[1]["notes"]
        assert [n["text"] for n in notes] == ["mine", "a supervisor's"]


async def test_a_safety_report_reaches_only_the_safety_team_and_supervisors_live(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, sue = await add_user(redis_url, "ann"), await add_user(redis_url, "sue", "supervisor")
    async with signed_in(console, "ann", ann) as general, signed_in(console, "sue", sue) as supervisor:
        await general.connect()
        await supervisor.connect()
        ticket = (await opened(manager, "cust:c1003", "充电宝充电时冒烟了，还烫伤了孩子的手", "safety",
                               customer_id="c1003")).ticket_id
        routed = await general.wait_for(lambda e: e["type"] in {"queued", "routed"}, 10)
        assert routed == {"type": "routed", "ticket_id": ticket, "team": "safety"}  # not what it says
        queued = await supervisor.wait_for(lambda e: e["type"] == "queued", 10)
        assert queued["item"]["trigger_text"].startswith("充电宝")
        assert await manager.before(said("cust:c1003", "孩子的手起泡了", "c1003"))
        await supervisor.wait_for(lambda e: e["type"] == "message", 10)
        assert not [e for e in general.events if e["type"] == "message"]
        assert (await general.get("/console/api/inbox?view=unassigned&q=c1003"))[1]["items"] == []


async def test_consoles_never_receive_a_visitors_id(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, sue = await add_user(redis_url, "ann"), await add_user(redis_url, "sue", "supervisor")
    seen: list[str] = []
    async with signed_in(console, "ann", ann) as agent, signed_in(console, "sue", sue) as supervisor:
        for each in (agent, supervisor):
            seen.append(json.dumps(await each.connect()))
        ticket = (await opened(manager, VISITOR, "I want to complain about the courier")).ticket_id
        assert await manager.before(said(VISITOR, "hello? anyone"))
        for each in (agent, supervisor):
            seen.append(json.dumps(await each.wait_for(lambda e: e["type"] == "queued", 10)))
            seen.append(json.dumps(await each.wait_for(lambda e: e["type"] == "message", 10)))
        seen.append(json.dumps(await agent.act(ticket, "claim")))
        seen.append(json.dumps(await agent.wait_for(lambda e: e["type"] == "claimed", 10)))
        seen.append(json.dumps(await agent.act(ticket, "reply", text="Hello, Ann here")))
        seen.append(json.dumps(await agent.wait_for(lambda e: e["type"] == "message", 10)))
        for path in ("/console/api/queue", f"/console/api/tickets/{ticket}"):
            for each in (agent, supervisor):
                seen.append(json.dumps(await each.get(path)))
        assert "Secret-Bearer-Visitor-42" not in "\n".join(seen)  # the events, the board, the packet
        for path in ("/console/api/inbox?view=mine", "/console/api/inbox?view=all",
                     "/console/api/inbox?view=all&q=" + ticket):
            for each in (agent, supervisor):
                seen.append(json.dumps(await each.get(path)))
        packet = (await supervisor.get(f"/console/api/tickets/{ticket}"))[1]
        seen.append(json.dumps(await supervisor.act(ticket, "handback")))
        seen.append(json.dumps(await supervisor.wait_for(lambda e: e["type"] == "finished", 10)))
    everything = "\n".join(seen)
    assert "Secret-Bearer-Visitor-42" not in everything
    assert "visitor #" in everything  # the short label stands in for it
    assert packet["sidebar"]["label"].startswith("visitor #") and packet["customer"]["conversation_id"] == (
        packet["sidebar"]["label"])
