"""The real gateway on a real port, and a web-chat client that speaks the widget's protocol."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from kefu.app.gateway import create_app
from kefu.config.settings import Settings
from kefu.core.identity import sign_customer


@asynccontextmanager
async def running_gateway(settings: Settings, *, run_pipeline: bool = True) -> AsyncIterator[str]:
    """Serve create_app(settings) on settings.host:settings.port; yields the base URL."""
    runner = web.AppRunner(create_app(settings, run_pipeline=run_pipeline))
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    try:
        yield settings.public_origin
    finally:
        await runner.cleanup()


class ChatClient:
    """A web-chat customer: hello, send, and read the bot's answers."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, welcome: dict[str, Any]) -> None:
        self.socket = socket
        self.welcome = welcome
        self.frames: list[dict[str, Any]] = []

    async def next_frame(self, timeout: float = 60) -> dict[str, Any]:
        frame = await self.socket.receive_json(timeout=timeout)
        self.frames.append(frame)
        return frame

    async def send(self, text: str, message_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """Send a message and return the server's ack or error frame (bot replies seen meanwhile are kept)."""
        message_id = message_id or uuid.uuid4().hex
        await self.socket.send_json({"type": "message", "id": message_id, "text": text} | extra)
        while True:
            frame = await self.next_frame()
            if frame["type"] in {"ack", "error"} and frame.get("id") == message_id:
                return frame

    async def replies(self, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait for ``count`` message frames from the bot, agent or system."""
        got = [f for f in self.frames if f["type"] == "message"]
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < count:
            frame = await self.next_frame(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
            if frame["type"] == "message":
                got.append(frame)
        self.frames = [f for f in self.frames if f["type"] != "message"]
        return got

    async def ask(self, text: str, timeout: float = 60) -> str:
        """Send and return the text of the bot's answer (all its messages for this turn, joined)."""
        ack = await self.send(text)
        assert ack["type"] == "ack", ack
        first = await self.replies(1, timeout)
        texts = [m["text"] for m in first]
        # A turn can carry several messages; collect those that arrive right after the first.
        while True:
            try:
                more = await self.replies(1, timeout=1.5)
            except TimeoutError:
                break
            texts += [m["text"] for m in more]
        return "\n".join(texts)


@asynccontextmanager
async def chat(
    base_url: str,
    *,
    customer_id: str | None = None,
    secret: str | None = None,
    visitor_id: str | None = None,
    origin: str | None = None,
) -> AsyncIterator[ChatClient]:
    hello: dict[str, Any] = {"type": "hello", "visitor_id": visitor_id or uuid.uuid4().hex}
    if customer_id is not None:
        hello |= sign_customer(customer_id, secret or "").hello_fields()
    headers = {"Origin": origin or base_url}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base_url}/ws/chat", headers=headers) as socket:
            await socket.send_str(json.dumps(hello))
            welcome = await socket.receive_json(timeout=30)
            yield ChatClient(socket, welcome)
