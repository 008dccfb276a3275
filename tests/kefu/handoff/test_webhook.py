"""The context packet reaches an outside helpdesk: POSTed as JSON, with the configured bearer token."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import time
from typing import Any

import pytest
from aiohttp import web

from fakes.loopback import serving
from kefu.config.handoff import HandoffSettings
from kefu.config.settings import Settings
from tests.helpers.gateway import chat, running_gateway

pytestmark = pytest.mark.stack


async def test_handoff_posts_the_context_packet(stack_settings: Settings) -> None:
    received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def helpdesk(request: web.Request) -> web.Response:
        await received.put((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/tickets", helpdesk)
    async with serving(app) as origin:
        handoff = HandoffSettings(opens=time(0, 0), closes=time(23, 59, 59, 999999),
                                  webhook_url=f"{origin}/tickets", webhook_token="helpdesk-secret")
        settings = dataclasses.replace(stack_settings, handoff=handoff)
        async with running_gateway(settings), chat(settings.public_origin, customer_id="c1001",
                                                   secret=settings.identity_secret) as customer:
            await customer.ask("我要投诉,你们的快递员把我的包裹扔在门口就走了,东西都摔坏了")
            authorization, packet = await asyncio.wait_for(received.get(), 30)
    assert authorization == "Bearer helpdesk-secret"
    assert packet["ticket"]["id"].startswith("T-")
    assert packet["ticket"]["reason"] == "complaint"
    transcript_texts = [entry["text"] for entry in packet["transcript"]]
    assert any("快递员" in text for text in transcript_texts)
    assert any(order["id"] == "DD20261104005" for order in packet["orders"])
