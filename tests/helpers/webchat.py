"""Web-chat sockets as tests need them beyond tests/helpers/gateway.py's ``chat``: from a chosen client address
(through a trusted proxy's X-Forwarded-For), refused ones, and replies delivered the way the pipeline does."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from kefu.channels.webchat.sender import WebChatSender
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.messages import OutboundMessage
from tests.helpers.gateway import ChatClient


async def open_socket(http: aiohttp.ClientSession, base_url: str, hello: dict[str, Any],
                      forwarded_for: str | None = None) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """Connect and say hello; returns the socket and the server's first frame (welcome or error)."""
    headers = {"Origin": base_url} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
    socket = await http.ws_connect(f"{base_url}/ws/chat", headers=headers)
    await socket.send_str(json.dumps({"type": "hello"} | hello))
    return socket, await socket.receive_json(timeout=30)


@asynccontextmanager
async def visitor(base_url: str, *, visitor_id: str | None = None, forwarded_for: str | None = None,
                  lang: str | None = None, hello: dict[str, Any] | None = None) -> AsyncIterator[ChatClient]:
    """An anonymous visitor (or the given hello) that was welcomed."""
    said = hello or {"visitor_id": visitor_id or uuid.uuid4().hex}
    if lang:
        said = said | {"lang": lang}
    async with aiohttp.ClientSession() as http:
        socket, welcome = await open_socket(http, base_url, said, forwarded_for)
        try:
            assert welcome["type"] == "welcome", welcome
            yield ChatClient(socket, welcome)
        finally:
            await socket.close()


async def refused_socket(base_url: str, hello: dict[str, Any], forwarded_for: str | None = None
                         ) -> tuple[dict[str, Any], aiohttp.WSMessage]:
    """The error frame and the close frame of a socket the gateway refuses."""
    async with aiohttp.ClientSession() as http:
        socket, first = await open_socket(http, base_url, hello, forwarded_for)
        closing = await socket.receive(timeout=10)
        await socket.close()
        return first, closing


async def queued_messages(redis: aioredis.Redis, shards: int) -> int:
    return sum([await redis.xlen(keys.inbox_stream(shard)) for shard in range(shards)])


async def deliver(redis: aioredis.Redis, conversation_id: str, text: str) -> OutboundMessage:
    """A reply stored in the transcript, then published: exactly what the pipeline's delivery does."""
    message = OutboundMessage(conversation_id, text)
    await Delivery(ConversationStore(redis), {"web": WebChatSender(redis)}).deliver("web", message)
    return message


async def retrying(step: Any, timeout_s: float = 15) -> Any:
    """Await ``step()`` until Redis answers (right after a restart it may still be loading its AOF)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await step()
        except (aioredis.ConnectionError, aioredis.TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
