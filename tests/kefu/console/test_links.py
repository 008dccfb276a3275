"""An agent unlinks a customer's chat from the console (kefu/console/links.py): signed in, and only on a ticket
they may see (kefu/console/access.py); the chat's next message goes to its own conversation again."""
from __future__ import annotations

import aiohttp
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, expect

from kefu.channels.linking import Customers, LinkOutcome, LinkRequest
from kefu.core import keys
from kefu.handoff.manager import HandoffManager
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.console import add_user, signed_in
from tests.kefu.console.rig import manager, opened  # noqa: F401  (fixture)
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)

ZHANG = LinkRequest("DD20261104001", "5678")  # 张伟, c1001


async def linked_ticket(manager: HandoffManager, redis: aioredis.Redis) -> tuple[Customers, str]:  # noqa: F811
    """张伟 linked a WeChat and a Telegram chat, then complained: a waiting ticket on his conversation."""
    customers = Customers(redis, DemoOrderBackend(redis))
    ticket = (await opened(manager, "cust:c1001", "我要投诉", customer_id="c1001")).ticket_id
    for channel, user_id in (("telegram", "7301"), ("wechat", "oZhangWei")):
        assert (await customers.link(channel, user_id, ZHANG))[0] is LinkOutcome.LINKED
    return customers, ticket


async def test_an_agent_who_sees_the_ticket_unlinks_a_channel(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager  # noqa: F811
) -> None:
    customers, ticket = await linked_ticket(manager, redis_client)
    ann = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", ann) as agent:
        status, listed = await agent.get(f"/console/api/tickets/{ticket}/links")
        assert status == 200 and listed == {"links": [{"channel": "telegram"}, {"channel": "wechat"}]}
        assert "7301" not in str(listed) and "oZhangWei" not in str(listed)  # no channel user ids leave

        status, done = await agent.post(f"/console/api/tickets/{ticket}/links/telegram/unlink")
        assert (status, done) == (200, {"ok": True, "channel": "telegram", "unlinked": 1})
        user = await customers.resolve("telegram", "7301")
        assert (user.conversation_id, user.customer_id) == ("telegram:7301", None)
        assert await redis_client.get(keys.link("wechat", "oZhangWei")) == "c1001"  # the other chat stays
        assert (await agent.get(f"/console/api/tickets/{ticket}/links"))[1] == {"links": [{"channel": "wechat"}]}

        assert await agent.post(f"/console/api/tickets/{ticket}/links/telegram/unlink") == (
            409, {"error": "not_linked", "channel": "telegram"})
        assert (await agent.post(f"/console/api/tickets/{ticket}/links/Tele%20gram/unlink"))[0] == 400


async def test_an_agent_who_may_not_see_the_ticket_gets_403_and_nothing_changes(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager  # noqa: F811
) -> None:
    _, ticket = await linked_ticket(manager, redis_client)
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    async with signed_in(console, "ann", ann) as holder, signed_in(console, "bob", bob) as other:
        assert (await holder.act(ticket, "claim"))[0] == 200  # ann's now: bob may not see it
        assert await other.get(f"/console/api/tickets/{ticket}/links") == (403, {"error": "forbidden"})
        assert await other.post(f"/console/api/tickets/{ticket}/links/telegram/unlink") == (
            403, {"error": "forbidden"})
        assert await other.post("/console/api/tickets/T-999999/links/telegram/unlink") == (
            403, {"error": "forbidden"})  # a missing ticket looks the same: ids reveal nothing
        assert await redis_client.get(keys.link("telegram", "7301")) == "c1001"
        assert (await holder.post(f"/console/api/tickets/{ticket}/links/telegram/unlink"))[0] == 200


async def test_without_a_session_or_csrf_token_nothing_is_unlinked(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager  # noqa: F811
) -> None:
    _, ticket = await linked_ticket(manager, redis_client)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{console}/console/api/tickets/{ticket}/links") as response:
            assert response.status == 401
        async with http.post(f"{console}/console/api/tickets/{ticket}/links/telegram/unlink", json={},
                             headers={"Origin": console}) as response:
            assert response.status == 401
    ann = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", ann) as agent:
        async with agent.http.post(f"{console}/console/api/tickets/{ticket}/links/telegram/unlink", json={},
                                   headers={"Origin": console}) as response:
            assert response.status == 403  # signed in, but no CSRF token
    assert await redis_client.get(keys.link("telegram", "7301")) == "c1001"


@pytest.mark.browser
async def test_the_sidebar_lists_linked_chats_and_unlinks_one(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager,  # noqa: F811
    browser: Browser,
) -> None:
    customers, ticket = await linked_ticket(manager, redis_client)
    password = await add_user(redis_url, "ann")
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{console}/console/login")
    await page.fill("#username", "ann")
    await page.fill("#password", password)
    await page.click("#signin")
    await page.click(f"#queue .item[data-ticket='{ticket}']")
    links = page.locator("#customer #links")
    await expect(links.locator("button[data-unlink]")).to_have_count(2)
    await expect(links).to_contain_text("Telegram")
    page.once("dialog", lambda dialog: dialog.accept())
    await links.locator("button[data-unlink='telegram']").click()
    await expect(links).to_contain_text("Unlinked")
    await expect(links.locator("button[data-unlink]")).to_have_count(1)
    assert (await customers.resolve("telegram", "7301")).customer_id is None
