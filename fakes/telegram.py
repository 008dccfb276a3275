"""A local Telegram Bot API on 127.0.0.1 (``/bot<token>/<method>``), reached through PTB's ``base_url``,
and a client that posts updates to our webhook the way Telegram does."""
from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fakes.loopback import serving

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "telegram"
BOT_TOKEN = "7700000001:AAFakeTokenForKefuTests_abcdefghijk"
WEBHOOK_SECRET = "kefu-telegram-webhook-secret"
EMMA = 7301122334  # the chat (and user) id in the recorded updates


def update(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded update; ``update_id``, ``chat_id`` and ``text`` may be changed."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    if "update_id" in changes:
        data["update_id"] = changes["update_id"]
    body = data.get("message") or data["callback_query"]["message"]
    if "chat_id" in changes:
        body["chat"]["id"] = changes["chat_id"]
        (data.get("message") or data["callback_query"])["from"]["id"] = changes["chat_id"]
    if "text" in changes:
        data["message"]["text"] = changes["text"]
    return data


@dataclass
class FakeBotApi:
    """What Kefu uses of the Bot API. ``rate_limit_next`` makes the next sends answer 429;
    ``slow_next`` makes the next sends take that long (after the message was accepted)."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_next: list[int] = field(default_factory=list)
    slow_next: list[float] = field(default_factory=list)
    base_url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.dispatch)
        return app

    async def dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        self.calls.append(method)
        params = await _params(request)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return await handler(params)

    async def m_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok({"id": 7700000001, "is_bot": True, "first_name": "Kefu", "username": "kefu_demo_bot",
                    "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False})

    async def m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        if self.rate_limit_next:
            retry_after = self.rate_limit_next.pop(0)
            return web.json_response({"ok": False, "error_code": 429,
                                      "description": f"Too Many Requests: retry after {retry_after}",
                                      "parameters": {"retry_after": retry_after}}, status=429)
        chat_id = int(params["chat_id"])
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "text": params["text"]}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(message | {"at": time.monotonic()})
        if self.slow_next:
            await asyncio.sleep(self.slow_next.pop(0))
        return _ok(message)

    async def m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return _ok(True)

    async def m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)

    async def m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.05)

    def texts_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat"]["id"] == chat_id]


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        try:
            params[key] = json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
        except ValueError:
            params[key] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


@asynccontextmanager
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    async with serving(fake.app()) as origin:
        fake.base_url = f"{origin}/bot"
        yield fake
