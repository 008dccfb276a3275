"""A local stand-in for WeChat: its API server (token, customer-service messages) on 127.0.0.1, and a
client that pushes messages to our webhook the way WeChat's servers do, signed and encrypted by wechatpy."""
from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from fakes.loopback import serving

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "wechat"
APPID = "wx5f6a1c2b3d4e5f60"
SECRET = "demo-app-secret-0123456789abcdef"
TOKEN = "kefu-wechat-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PREVIOUS_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


def fixture(name: str, **fields: Any) -> str:
    values = {"openid": "oUser", "msg_id": "1", "create_time": str(int(time.time())), "content": ""} | fields
    return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8").format(**values)


@dataclass
class FakeWeChatApi:
    """WeChat's HTTP API as far as Kefu uses it. ``errors`` maps an openid to the errcode its sends get."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    errors: dict[str, int] = field(default_factory=dict)
    token_delay_s: float = 0.0
    base_url: str = ""
    _counter: itertools.count = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        return app

    async def token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential" or query.get("appid") != APPID \
                or query.get("secret") != SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_fetches += 1
        await asyncio.sleep(self.token_delay_s)
        token = f"ACCESS_TOKEN_{next(self._counter)}"
        # Like WeChat: a new token invalidates the previous ones (after a short grace we do not model).
        self.valid_tokens = {token}
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def custom_send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        body = await request.json()
        if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        errcode = self.errors.get(body.get("touser"), 0)
        if errcode:
            return web.json_response({"errcode": errcode, "errmsg": "refused by the fake"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]


@asynccontextmanager
async def fake_wechat_api() -> AsyncIterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    async with serving(fake.app()) as origin:
        fake.base_url = f"{origin}/cgi-bin/"
        yield fake


@dataclass
class Push:
    """One request as WeChat's servers would send it."""

    query: dict[str, str]
    body: bytes


class WeChatServer:
    """Signs (and in safe mode encrypts) pushes with wechatpy, and reads our passive replies."""

    def __init__(self, webhook_url: str, session: aiohttp.ClientSession, aes_key: str | None = AES_KEY,
                 appid: str = APPID, token: str = TOKEN) -> None:
        self.url = webhook_url
        self.session = session
        self.aes_key = aes_key
        self.appid = appid
        self.token = token

    def sign(self, *parts: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, *parts)
        return signer.signature

    def push(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> Push:
        timestamp = int(time.time()) if timestamp is None else timestamp
        nonce = nonce or uuid.uuid4().hex[:10]
        query = {"timestamp": str(timestamp), "nonce": nonce, "openid": "oUser",
                 "signature": self.sign(str(timestamp), nonce)}
        if self.aes_key is None:
            return Push(query, xml.encode())
        wrapped = WeChatCrypto(self.token, self.aes_key, self.appid).encrypt_message(xml, nonce, timestamp)
        fields = xmltodict.parse(wrapped)["xml"]
        body = f"<xml><ToUserName><![CDATA[gh_kefu_demo]]></ToUserName><Encrypt><![CDATA[{fields['Encrypt']}]]>" \
               f"</Encrypt></xml>"
        query |= {"encrypt_type": "aes", "msg_signature": fields["MsgSignature"]}
        return Push(query, body.encode())

    async def send(self, push: Push) -> tuple[int, str]:
        async with self.session.post(self.url, params=push.query, data=push.body,
                                     headers={"Content-Type": "text/xml"}) as response:
            return response.status, await response.text()

    async def deliver(self, xml: str) -> tuple[int, str]:
        return await self.send(self.push(xml))

    def reply_text(self, body: str) -> str | None:
        """The text of a passive reply (decrypted in safe mode); None for ``success``."""
        if body == "success":
            return None
        fields = xmltodict.parse(body)["xml"]
        if "Encrypt" in fields:
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            inner = crypto.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            fields = xmltodict.parse(inner)["xml"]
        return fields["Content"]
