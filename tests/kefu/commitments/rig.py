"""A real gateway for the commitments tests: real Redis with the demo orders, web chat, WeChat on its fake API,
the order-events webhook with a known secret, and a shop that signs and posts events to it."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from fakes.telegram import BOT_TOKEN, WEBHOOK_SECRET, FakeBotApi, fake_bot_api
from fakes.wechat import AES_KEY, APPID, SECRET, TOKEN, FakeWeChatApi, WeChatServer, fake_wechat_api, fixture
from kefu.app import appkeys
from kefu.app.gateway import create_app
from kefu.app.services import Services
from kefu.commitments.signing import signed_headers
from kefu.config.channels import ChannelSettings
from kefu.config.commitments import CommitmentSettings
from kefu.config.settings import Settings
from kefu.ops.runtime import seed_demo
from kefu.ops.stack import free_port
from tests.helpers.settings import ALWAYS_OPEN

SHOP_SECRET = "shop-order-events-secret"
IDENTITY_SECRET = "identity-secret"


def commitments_settings(redis_url: str, wechat_api: str, telegram_api: str, **changes: Any) -> Settings:
    """No Rasa unless ``changes`` name one: the interceptors answer before Rasa is asked."""
    channels = ChannelSettings(wechat_appid=APPID, wechat_token=TOKEN, wechat_secret=SECRET, wechat_aes_key=AES_KEY,
                               wechat_api_base_url=wechat_api, telegram_bot_token=BOT_TOKEN,
                               telegram_webhook_secret=WEBHOOK_SECRET, telegram_api_base_url=telegram_api)
    settings = Settings(redis_url=redis_url, rasa_url="http://127.0.0.1:9", rasa_token="t",
                        identity_secret=IDENTITY_SECRET, port=free_port(), channels=channels, handoff=ALWAYS_OPEN,
                        commitments=CommitmentSettings(order_events_secret=SHOP_SECRET))
    return dataclasses.replace(settings, **changes)


@dataclass
class Shop:
    """The shop's side of the webhook: signs each delivery afresh unless given the exact request to replay."""

    url: str
    http: aiohttp.ClientSession
    secret: str = SHOP_SECRET

    def request(self, event: dict[str, Any] | bytes, now: float | None = None) -> tuple[bytes, dict[str, str]]:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        return body, signed_headers(self.secret, body, now)

    async def send(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, event: dict[str, Any] | bytes, now: float | None = None) -> tuple[int, dict[str, Any]]:
        return await self.send(*self.request(event, now))


def event(kind: str = "shipped", order_id: str = "DD20261104002", **data: Any) -> dict[str, Any]:
    return {"id": f"evt-{uuid.uuid4().hex}", "type": kind, "order_id": order_id, "data": data}


@dataclass
class Rig:
    base_url: str
    settings: Settings
    services: Services
    shop: Shop
    wechat_api: FakeWeChatApi
    wechat: WeChatServer
    telegram_api: FakeBotApi

    async def telegram_update(self, update: dict[str, Any]) -> None:
        """An update as Telegram's servers post it to our webhook."""
        async with self.shop.http.post(f"{self.base_url}/webhooks/telegram", json=update,
                                       headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as response:
            assert response.status == 200, await response.text()

    async def wechat_says(self, openid: str, text: str) -> str | None:
        """A WeChat push from ``openid``; the passive reply's text, or None for ``success``."""
        status, body = await self.wechat.deliver(fixture("text", openid=openid, msg_id=uuid.uuid4().int % 10**12,
                                                         content=text))
        assert status == 200, body
        return self.wechat.reply_text(body)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """The first truthy result of ``check``, polled until ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_rig(redis_url: str, *, run_pipeline: bool = True, **changes: Any) -> AsyncIterator[Rig]:
    """``run_pipeline=False`` when no customer message needs answering (the interceptors run in the pipeline)."""
    await seed_demo(redis_url)
    async with fake_wechat_api() as api, fake_bot_api() as telegram:
        settings = commitments_settings(redis_url, api.base_url, telegram.base_url, **changes)
        app = create_app(settings, run_pipeline=run_pipeline)
        app[appkeys.RECEIVERS]["wechat"].passive.wait_s = 1.0
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        # Stopping the passive-reply listener while it is still subscribing can leave it retrying forever
        # (kefu/channels/wechat/passive.py): start every test from a listening gateway.
        await asyncio.wait_for(app[appkeys.RECEIVERS]["wechat"].passive._ready.wait(), 10)
        try:
            async with aiohttp.ClientSession() as http:
                base = settings.public_origin
                yield Rig(base, settings, app[appkeys.SERVICES], Shop(f"{base}/api/order-events", http), api,
                          WeChatServer(f"{base}/webhooks/wechat", http), telegram)
        finally:
            await runner.cleanup()
