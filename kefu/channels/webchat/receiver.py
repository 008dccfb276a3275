"""Web chat's input side: the embeddable widget talks to ``/ws/chat``; replies reach it through Redis pub/sub.

Frames (JSON, both ways) are documented in the README ("Web chat protocol"). Any gateway process can
hold the socket: replies are published on the conversation's channel and every process forwards its own.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from aiohttp import WSMsgType, web

from kefu.channels.base import BUTTON_PAYLOAD, ChannelReceiver
from kefu.channels.intake import Intake
from kefu.config.settings import DEFAULT_IDENTITY_MAX_AGE_S
from kefu.core.delivery import Delivery
from kefu.core.i18n import detect_language, t
from kefu.core.identity import (
    VISITOR_ID,
    IdentityRefused,
    customer_conversation,
    verify_customer,
    visitor_conversation,
)
from kefu.core.keys import web_out_channel
from kefu.core.messages import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10
MAX_FRAME_BYTES = 64 * 1024
CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN = 1013
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
CLIENT_ID_MAX = 64


@dataclass(frozen=True)
class Visitor:
    conversation_id: str
    customer_id: str | None
    # Where the socket comes from: the action server counts wrong order-verification tries per address too.
    address: str = ""


class HelloError(ValueError):
    """The first frame did not say who is chatting in a way we can trust."""


class WebChatReceiver(ChannelReceiver):
    name = "web"

    def __init__(
        self,
        redis: aioredis.Redis,
        intake: Intake,
        delivery: Delivery,
        identity_secret: str,
        allowed_origins: set[str],
        identity_max_age_s: int = DEFAULT_IDENTITY_MAX_AGE_S,
    ) -> None:
        self.redis = redis
        self.intake = intake
        self.delivery = delivery
        self.conversations = delivery.conversations
        self.identity_secret = identity_secret
        self.allowed_origins = allowed_origins
        self.identity_max_age_s = identity_max_age_s

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/ws/chat", self.handle_socket)]

    def identify(self, hello: dict[str, Any]) -> Visitor:
        customer_id = hello.get("customer_id")
        if customer_id:
            self._verify(str(customer_id), hello)
            return Visitor(customer_conversation(str(customer_id)), str(customer_id))
        visitor_id = str(hello.get("visitor_id") or "")
        if not VISITOR_ID.match(visitor_id):
            raise HelloError("bad_visitor_id")
        return Visitor(visitor_conversation(visitor_id), None)

    def _verify(self, customer_id: str, hello: dict[str, Any]) -> None:
        """A signed-in customer only with a fresh signature from the shop; the refusal's code goes to the widget."""
        try:
            verify_customer(customer_id, hello.get("issued_at"), str(hello.get("signature") or ""),
                            self.identity_secret, max_age_s=self.identity_max_age_s)
        except IdentityRefused as refused:
            raise HelloError(str(refused)) from None

    async def handle_socket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in self.allowed_origins:
            log.warning("web chat: refused origin %s", origin)
            raise web.HTTPForbidden(text="origin not allowed")
        socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
        await socket.prepare(request)
        try:
            visitor = dataclasses.replace(await self._hello(socket), address=request.remote or "")
        except HelloError as error:
            await socket.send_json({"type": "error", "code": str(error)})
            await socket.close(code=CLOSE_UNAUTHORIZED, message=str(error).encode())
            return socket
        pubsub = self.redis.pubsub()
        try:
            # Subscribe before reading the history, so no reply falls between the two.
            await pubsub.subscribe(web_out_channel(visitor.conversation_id))
            history = await self.conversations.transcript(visitor.conversation_id)
        except REDIS_DOWN as error:
            log.error("web chat: Redis unavailable at connect: %s", error)
            await pubsub.aclose()
            await socket.send_json({"type": "error", "code": "unavailable", "retry": True})
            await socket.close(code=CLOSE_TRY_AGAIN, message=b"unavailable")
            return socket
        forwarder = asyncio.create_task(self._forward(pubsub, socket))
        try:
            await socket.send_json({
                "type": "welcome",
                "conversation_id": visitor.conversation_id,
                "history": [_public_entry(entry) for entry in history],
            })
            await self._receive(socket, visitor)
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, *REDIS_DOWN):
                await forwarder
            with contextlib.suppress(*REDIS_DOWN):
                await pubsub.aclose()
        return socket

    async def _hello(self, socket: web.WebSocketResponse) -> Visitor:
        try:
            frame = await socket.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            raise HelloError("hello_timeout") from None
        if frame.type != WSMsgType.TEXT:
            raise HelloError("bad_hello")
        try:
            hello = json.loads(frame.data)
        except ValueError:
            raise HelloError("bad_json") from None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            raise HelloError("bad_hello")
        return self.identify(hello)

    async def _forward(self, pubsub: aioredis.client.PubSub, socket: web.WebSocketResponse) -> None:
        async for event in pubsub.listen():
            if event.get("type") == "message" and not socket.closed:
                await socket.send_str(json.dumps({"type": "message"} | json.loads(event["data"]), ensure_ascii=False))

    async def _receive(self, socket: web.WebSocketResponse, visitor: Visitor) -> None:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            reply = await self._take_frame(frame.data, visitor)
            await socket.send_json(reply)

    async def _take_frame(self, data: str, visitor: Visitor) -> dict[str, Any]:
        """Validate one client frame and queue its message; the answer is an ack or an error frame."""
        try:
            frame = json.loads(data)
        except ValueError:
            return {"type": "error", "code": "bad_json"}
        if not isinstance(frame, dict) or frame.get("type") != "message":
            return {"type": "error", "code": "bad_request"}
        client_id = str(frame.get("id") or "")
        text = frame.get("text")
        if not client_id or len(client_id) > CLIENT_ID_MAX or not isinstance(text, str):
            lang = detect_language(text) if isinstance(text, str) else None
            return {"type": "error", "id": client_id, "code": "bad_request", "message": t("gateway.bad_request", lang)}
        payload = frame.get("payload")
        metadata: dict[str, str] = {"client_address": visitor.address} if visitor.address else {}
        if isinstance(payload, str) and BUTTON_PAYLOAD.match(payload):
            metadata["payload"] = payload
        message = InboundMessage(
            channel=self.name,
            sender=visitor.conversation_id,
            conversation_id=visitor.conversation_id,
            text=text,
            message_id=f"{visitor.conversation_id}:{client_id}",
            customer_id=visitor.customer_id,
            metadata=metadata,
        )
        try:
            taken = await self.intake.take(message)
            if taken.refused is not None and taken.fresh:
                await self.delivery.keep(self.name, OutboundMessage(visitor.conversation_id, taken.answer or ""))
        except REDIS_DOWN as error:
            log.error("web chat: could not store message from %s: %s", visitor.conversation_id, error)
            return {"type": "error", "id": client_id, "code": "unavailable", "retry": True,
                    "message": t("gateway.unavailable", detect_language(text))}
        if taken.refused is not None:
            return {"type": "error", "id": client_id, "code": taken.refused, "message": taken.answer}
        return {"type": "ack", "id": client_id, "duplicate": not taken.fresh}


def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """What the customer's own widget may see of the transcript (not the bot's understanding)."""
    return {k: entry[k] for k in ("id", "role", "text", "ts", "buttons") if k in entry}
