"""The inbox (issue 12 #7) over the real gateway and Redis: views, statuses, snoozes that come back, search,
teams managed by a supervisor, the agent's language and the console's dictionary."""
from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from kefu.core.ratings import BY_BOT, Rating, RatingStore
from kefu.handoff.manager import HandoffManager
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.console import Agent, add_user, signed_in
from tests.kefu.console.rig import manager, opened, said  # noqa: F401  (fixture)
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)


async def ids(agent: Agent, view: str = "mine", status: str = "open", q: str = "") -> list[str]:
    found = await inbox(agent, view, status, q)
    return sorted(item["ticket_id"] for item in found["items"])


async def inbox(agent: Agent, view: str = "mine", status: str = "open", q: str = "") -> dict[str, Any]:
    path = f"/console/api/inbox?view={view}&status={status}" + (f"&q={q}" if q else "")
    code, body = await agent.get(path)
    assert code == 200, body
    return body


async def test_views_mine_unassigned_my_team_and_all(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob", team="fraud")
    sue = await add_user(redis_url, "sue", "supervisor")
    first = (await opened(manager, "cust:c1001", "我要投诉，快递员态度太差", customer_id="c1001")).ticket_id
    second = (await opened(manager, "cust:c1002", "I want to complain", customer_id="c1002")).ticket_id
    async with signed_in(console, "ann", ann) as agent, signed_in(console, "bob", bob) as other, signed_in(
        console, "sue", sue
    ) as supervisor:
        assert await ids(agent, "unassigned") == sorted([first, second])
        assert (await agent.act(first, "claim"))[0] == 200
        assert await ids(agent, "mine") == [first]
        assert await ids(agent, "unassigned") == [second]
        assert await ids(agent, "team") == []
        assert (await inbox(agent, "unassigned"))["counts"] == {"mine": 1, "unassigned": 1, "team": 0}
        assert (await agent.get("/console/api/inbox?view=all"))[0] == 403
        assert await ids(supervisor, "all") == sorted([first, second])
        # A still-waiting handoff re-routed to a team: that team's view; gone from other teams' queues.
        assert (await supervisor.act(second, "transfer", team="fraud"))[0] == 200
        await other.connect()  # a fraud member is online: the item is routed to that team only
        assert await ids(other, "team") == [second]
        assert await ids(agent, "unassigned") == []
        assert await ids(other, "mine") == []
        for bad in ("view=everything", "status=lost", "q=" + "x" * 65):
            assert (await agent.get(f"/console/api/inbox?{bad}"))[0] == 400


async def test_pending_and_snoozed_conversations_come_back(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    handoff = await opened(manager, "cust:c1001", "我要投诉，快递员态度太差", customer_id="c1001")
    ticket = handoff.ticket_id
    async with signed_in(console, "ann", ann) as agent, signed_in(console, "bob", bob) as other:
        await agent.connect()
        assert (await agent.act(ticket, "claim"))[0] == 200
        status, body = await agent.act(ticket, "status", status="pending")
        assert status == 200 and body["result"]["inbox"] == "pending"
        assert await ids(agent) == [] and await ids(agent, status="pending") == [ticket]
        # The customer answers: it is open again, and every console that may see it hears so.
        assert await manager.before(said("cust:c1001", "我补充一下订单号", "c1001"))
        event = await agent.wait_for(lambda e: e["type"] == "inbox" and e.get("by") == "customer", 10)
        assert event["item"]["inbox"] == "open"
        assert await ids(agent) == [ticket]

        assert (await agent.act(ticket, "status", status="snoozed", until=time.time() - 5))[0] == 409
        assert (await agent.act(ticket, "status", status="asleep"))[0] == 400
        assert (await agent.act(ticket, "status", status="snoozed", until_local="tomorrow"))[0] == 400
        assert (await other.act(ticket, "status", status="snoozed", until=time.time() + 60))[0] == 404
        status, body = await agent.act(ticket, "status", status="snoozed", until=time.time() + 2)
        assert status == 200 and body["result"]["inbox"] == "snoozed"
        assert await ids(agent) == [] and await ids(agent, status="snoozed") == [ticket]
        # The gateway's watcher brings it back when its time comes.
        woke = await agent.wait_for(lambda e: e["type"] == "inbox" and e.get("by") == "snooze", 15)
        assert woke["item"]["ticket_id"] == ticket and woke["item"]["snoozed_until"] == 0
        assert await ids(agent) == [ticket] and await ids(agent, status="snoozed") == []


async def test_search_by_order_ticket_customer_and_phone_digits(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager  # noqa: F811
) -> None:
    ann, sue = await add_user(redis_url, "ann"), await add_user(redis_url, "sue", "supervisor")
    orders = await DemoOrderBackend(redis_client).orders_of("c1001")
    signed = await opened(manager, "cust:c1001", "我要投诉，快递员态度太差", customer_id="c1001")
    # An anonymous visitor who named an order: found by that order and its phone's last digits.
    visitor_order = (await DemoOrderBackend(redis_client).orders_of("c1002"))[0]
    anonymous = await opened(manager, "visitor:anon-visitor-0000000001", "I want to complain about my parcel",
                             slots={"order_id": visitor_order.id})
    async with signed_in(console, "ann", ann) as agent, signed_in(console, "sue", sue) as supervisor:
        assert await ids(agent, q=orders[-1].id) == [signed.ticket_id]
        assert await ids(agent, q=orders[-1].id.lower()) == [signed.ticket_id]
        assert await ids(agent, q=visitor_order.id) == [anonymous.ticket_id]
        assert await ids(agent, q=signed.ticket_id) == [signed.ticket_id]
        assert await ids(agent, q=signed.ticket_id.removeprefix("T-")) == [signed.ticket_id]
        assert await ids(agent, q="C1001") == [signed.ticket_id]
        assert await ids(agent, q=orders[0].phone[-4:]) == [signed.ticket_id]
        assert await ids(agent, q=visitor_order.phone[-4:]) == [anonymous.ticket_id]
        assert await ids(agent, q="DD29990000000") == [] and await ids(agent, q="0000") == []
        # Search looks through every status the agent may see: a resolved ticket only for a supervisor.
        assert (await supervisor.act(signed.ticket_id, "close", resolution="resolved"))[0] == 200
        assert await ids(agent, q="c1001") == []
        found = await inbox(supervisor, q="c1001")
        assert [(i["ticket_id"], i["inbox_status"]) for i in found["items"]] == [(signed.ticket_id, "resolved")]
        assert await ids(supervisor, "all", "resolved") == [signed.ticket_id]
        assert (await agent.get("/console/api/inbox?view=mine&status=resolved"))[0] == 403


async def test_teams_and_memberships_are_a_supervisors_to_manage(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    sue = await add_user(redis_url, "sue", "supervisor")
    ticket = (await opened(manager, "cust:c1002", "I want to complain", customer_id="c1002")).ticket_id
    async with signed_in(console, "ann", ann) as agent, signed_in(console, "bob", bob) as other, signed_in(
        console, "sue", sue
    ) as supervisor:
        assert (await agent.post("/console/api/teams", {"name": "returns"}))[0] == 403
        assert (await agent.post("/console/api/agents/ann/teams", {"teams": ["returns"]}))[0] == 403
        assert (await supervisor.post("/console/api/teams", {"name": "Bad Team"}))[0] == 400
        assert (await supervisor.post("/console/api/teams", {"name": "returns"}))[0] == 200
        assert (await supervisor.post("/console/api/agents/ann/teams", {"teams": ["nowhere"]}))[0] == 400
        assert (await supervisor.post("/console/api/agents/ann/teams", {"teams": []}))[0] == 400
        assert (await supervisor.post("/console/api/agents/nobody/teams", {"teams": ["returns"]}))[0] == 404
        status, body = await supervisor.post("/console/api/agents/ann/teams", {"teams": ["general", "returns"]})
        assert status == 200 and body["teams"] == ["general", "returns"]
        assert (await agent.get("/console/api/me"))[1]["teams"] == ["general", "returns"]  # at once
        listed = {t["name"]: t["members"] for t in (await other.get("/console/api/teams"))[1]["teams"]}
        assert listed["returns"] == ["ann"] and listed["general"] == ["ann", "bob", "sue"]
        # An agent re-routes a still-waiting handoff routed to them; a member of that team online takes it.
        await agent.connect()
        status, body = await other.act(ticket, "transfer", team="returns")
        assert status == 200 and (body["result"]["status"], body["result"]["team"]) == ("waiting", "returns")
        assert await ids(agent, "team") == [ticket]
        assert await ids(other, "unassigned") == []
        assert (await other.act(ticket, "claim"))[1]["error"] == "team"
        assert (await agent.act(ticket, "claim"))[0] == 200


async def test_the_agents_language_is_remembered_and_the_dictionary_comes_from_the_locales(
    console: str, redis_url: str  # noqa: F811
) -> None:
    ann = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", ann) as agent:
        me = (await agent.get("/console/api/me"))[1]
        assert me["locale"] == "" and me["timezone"] == "Asia/Shanghai" and me["dashboard"] is None
        assert (await agent.post("/console/api/prefs", {"locale": "fr"}))[0] == 400
        assert (await agent.post("/console/api/prefs", {"locale": "zh"}))[0] == 200
    async with signed_in(console, "ann", ann) as again:  # a new session, another device: still Chinese
        assert (await again.get("/console/api/me"))[1]["locale"] == "zh"
        status, zh = await again.get("/console/api/i18n?lang=zh")
        assert status == 200 and zh["texts"]["console.view.mine"] == "我的"
        assert zh["texts"]["console.intent.order_status"] == "查询订单进度"
        assert zh["texts"]["console.slot.order_id"] == "订单号"
        en = (await again.get("/console/api/i18n?lang=en"))[1]["texts"]
        assert set(en) == set(zh["texts"]) and en["console.view.mine"] == "Mine"
        assert not [key for key in en if key.startswith(("takeover.taken", "order."))]  # only the console's
        assert (await again.get("/console/api/i18n?lang=fr"))[0] == 400
    sue = await add_user(redis_url, "sue", "supervisor")
    async with signed_in(console, "sue", sue) as supervisor:
        assert (await supervisor.get("/console/api/me"))[1]["dashboard"] == "/console/dashboard"


async def test_the_packet_has_a_customer_sidebar(
    console: str, redis_url: str, manager: HandoffManager  # noqa: F811
) -> None:
    ann = await add_user(redis_url, "ann")
    ticket = (await opened(manager, "cust:c1001", "我要投诉，快递员态度太差", customer_id="c1001")).ticket_id
    async with signed_in(console, "ann", ann) as agent:
        status, packet = await agent.get(f"/console/api/tickets/{ticket}")
        assert status == 200
        side = packet["sidebar"]
        assert (side["label"], side["customer_id"], side["channels"], side["inbox_status"]) == (
            "c1001", "c1001", ["web"], "open")
        assert side["csat"] == {"available": True, "ratings": []}
        # A rating of an earlier ticket and one of the bot's answers in this conversation, each shown once.
        store = RatingStore(manager.redis)
        await store.record(Rating("cust:c1001", "T-100871", 2, "退款太慢", "ann", "web", time.time() - 60))
        await store.record(Rating("cust:c1001", "", 5, "", BY_BOT, "web", time.time() - 30))
        ratings = (await agent.get(f"/console/api/tickets/{ticket}"))[1]["sidebar"]["csat"]["ratings"]
        assert [(r["ticket_id"], r["score"], r["comment"], r["by"]) for r in ratings] == [
            ("", 5, "", "bot"), ("T-100871", 2, "退款太慢", "ann")]
        assert packet["orders"] and all(order["tracking"] is not None for order in packet["orders"])
        assert "T-100871" in [t["id"] for t in packet["earlier_tickets"]]
