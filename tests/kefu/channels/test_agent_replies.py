"""End to end: an agent's console reply reaches a complaining customer on Telegram and on WeChat."""
from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import redis.asyncio as aioredis

from fakes.telegram import EMMA, WEBHOOK_SECRET, FakeBotApi, fake_bot_api, update
from fakes.wechat import FakeWeChatApi, WeChatServer, fake_wechat_api, fixture
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import t
from tests.helpers.console import Agent, add_user, signed_in
from tests.helpers.gateway import running_gateway
from tests.helpers.settings import ALWAYS_OPEN, both_channels

pytestmark = pytest.mark.stack
OPENID = "oComplainer"


@dataclasses.dataclass
class Gateway:
    settings: Settings
    telegram: FakeBotApi
    wechat: FakeWeChatApi
    session: aiohttp.ClientSession


@pytest.fixture
async def gateway(stack_settings: Settings) -> AsyncIterator[Gateway]:
    """The real stack with both channels on their fake APIs, and agents always at work."""
    async with fake_wechat_api() as wx_api, fake_bot_api() as tg_api:
        settings = dataclasses.replace(both_channels(stack_settings, wx_api.base_url, tg_api.base_url),
                                       handoff=ALWAYS_OPEN)
        async with running_gateway(settings), aiohttp.ClientSession() as session:
            yield Gateway(settings, tg_api, wx_api, session)


async def received(texts: Callable[[], list[str]], wanted: str, timeout: float = 30) -> list[str]:
    """Everything sent to the customer once `wanted` is among it (or when the time is up)."""
    deadline = time.monotonic() + timeout
    while wanted not in texts() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return texts()


async def take_over_and_reply(gw: Gateway, complain: Callable[[], Awaitable[None]],
                              conversation_id: str, channel: str, reply: str) -> str:
    """The customer complains; an agent sees the ticket, claims it and replies. Returns the ticket id."""
    password = await add_user(gw.settings.redis_url, "ann")
    async with signed_in(gw.settings.public_origin, "ann", password) as agent:
        await agent.connect()
        await complain()
        queued = (await agent.wait_for(lambda e: e["type"] == "queued", timeout=90))["item"]
        assert (queued["channel"], queued["conversation_id"]) == (channel, conversation_id)
        assert (queued["reason"], queued["priority"]) == ("complaint", "high")
        ticket = queued["ticket_id"]
        assert (await agent.act(ticket, "claim"))[0] == 200
        status, sent = await agent.act(ticket, "reply", text=reply)
        assert status == 200, sent
        await until_stored(agent, ticket, reply)
    return ticket


async def until_stored(agent: Agent, ticket: str, reply: str) -> None:
    """The console shows the reply live, as the agent's turn on this ticket."""
    seen = await agent.wait_for(lambda e: e["type"] == "message" and e["entry"]["text"] == reply)
    assert seen["ticket"] == ticket and seen["entry"]["role"] == "agent"


async def delivered_cleanly(redis_url: str, conversation_id: str, reply: str) -> None:
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        transcript = await ConversationStore(redis).transcript(conversation_id)
    finally:
        await redis.aclose()
    entry = next(e for e in transcript if e["role"] == "agent")
    assert entry["text"] == reply and "undelivered" not in entry, entry


async def test_agent_reply_reaches_the_customer_on_telegram(gateway: Gateway) -> None:
    reply = "Hi Emma, I'm Ann from customer service. I'm sorry nobody answered, I'm on it now."

    async def complain() -> None:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        body = update("message", update_id=61, text="I want to file a formal complaint, nobody answers me")
        async with gateway.session.post(f"{gateway.settings.public_origin}/webhooks/telegram", json=body,
                                        headers=headers) as response:
            assert response.status == 200

    ticket = await take_over_and_reply(gateway, complain, f"telegram:{EMMA}", "telegram", reply)
    texts = await received(lambda: gateway.telegram.texts_to(EMMA), reply)
    assert texts[-1] == reply, texts
    assert any(ticket in text for text in texts[:-1]), texts  # told the ticket id first
    assert t("takeover.claimed", "en", agent="ann") in texts[:-1], texts
    assert all(m["chat"]["id"] == EMMA for m in gateway.telegram.sent)
    await delivered_cleanly(gateway.settings.redis_url, f"telegram:{EMMA}", reply)


async def test_agent_reply_reaches_the_customer_on_wechat(gateway: Gateway) -> None:
    reply = "您好，我是客服Ann。非常抱歉退款迟迟未到账，我马上为您核实处理。"
    wechat = WeChatServer(f"{gateway.settings.public_origin}/webhooks/wechat", gateway.session)
    passive: list[str | None] = []

    async def complain() -> None:
        # The customer's own message opens the 48-hour window for customer-service messages.
        status, body = await wechat.deliver(fixture("text", openid=OPENID, msg_id="9301",
                                                    content="我要投诉,你们答应的退款一直没到账"))
        assert status == 200
        passive.append(wechat.reply_text(body))

    ticket = await take_over_and_reply(gateway, complain, f"wechat:{OPENID}", "wechat", reply)
    texts = await received(lambda: gateway.wechat.texts_to(OPENID), reply)
    assert texts[-1] == reply, texts
    told = [text for text in passive + texts[:-1] if text]
    assert any(ticket in text for text in told), told  # the ticket id, passively or as a later message
    assert t("takeover.claimed", "zh", agent="ann") in texts[:-1], texts
    assert all(m["touser"] == OPENID and m["msgtype"] == "text" for m in gateway.wechat.sent)
    await delivered_cleanly(gateway.settings.redis_url, f"wechat:{OPENID}", reply)
