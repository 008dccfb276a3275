"""Web chat's input side: the embeddable widget talks to ``/ws/chat``; replies reach it through Redis pub/sub.

Frames (JSON, both ways) are documented in the README ("Web chat protocol"). Any gateway process can
hold the socket: replies are published on the conversation's channel, and each process has one subscription
for all of them (kefu/core/subscription.py) that it fans out to the sockets it holds (fanout.py). Limits on
sockets and messages (limits.py) are checked before anything is queued.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from aiohttp import WSMsgType, web

from kefu.channels.base import BUTTON_PAYLOAD, ChannelReceiver
from kefu.channels.intake import Intake
from kefu.channels.webchat.address import client_address, limit_key
from kefu.channels.webchat.fanout import Outlet
from kefu.channels.webchat.limits import SOCKET_RENEW_S, Refusal, Slot, WebChatLimits
from kefu.config.settings import DEFAULT_IDENTITY_MAX_AGE_S
from kefu.config.webchat import WebChatSettings
from kefu.core import keys
from kefu.core.delivery import Delivery
from kefu.core.i18n import LANGUAGES, detect_language, t
from kefu.core.identity import (
    VISITOR_ID,
    IdentityRefused,
    customer_conversation,
    verify_customer,
    visitor_conversation,
)
from kefu.core.keys import web_out_channel
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.core.subscription import Subscriber
from kefu.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10
MAX_FRAME_BYTES = 64 * 1024
CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN = 1013
CLOSE_LIMITED = 4429  # a limit: the widget waits the error frame's retry_after before connecting again
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
CLIENT_ID_MAX = 64


@dataclass(frozen=True)
class Visitor:
    conversation_id: str
    customer_id: str | None
    # Where the socket comes from: the action server counts wrong order-verification tries per address too.
    address: str = ""
    # The language the widget's browser asked for (hello's "lang"): refusals before the customer wrote.
    lang: str | None = None


@dataclass
class ChatSocket:
    """One open socket: who, its slot in the socket limits, and what its messages count against."""

    visitor: Visitor
    slot: Slot
    lang: str | None
    # An anonymous visitor whose conversation has nothing yet: their first message counts as a new visitor.
    new_visitor: bool


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
        limits: WebChatSettings | None = None,
    ) -> None:
        self.redis = redis
        self.intake = intake
        self.delivery = delivery
        self.conversations = delivery.conversations
        self.identity_secret = identity_secret
        self.allowed_origins = allowed_origins
        self.identity_max_age_s = identity_max_age_s
        self.settings = limits or WebChatSettings()
        self.limits = WebChatLimits(redis, self.settings)
        # One pub/sub connection for every socket of this process, whatever their number.
        self.subscriber = Subscriber(redis, patterns=(keys.WEB_OUT_PATTERN,), name="webchat-replies")
        self._slots: dict[str, Slot] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.subscriber.start()
        self._renewer = asyncio.create_task(self._renew(), name="kefu-webchat-slots")

    async def stop(self) -> None:
        if self._renewer is not None:
            await cancel_and_wait(self._renewer)
        await self.subscriber.stop()

    async def _renew(self) -> None:
        """Keep this process's open sockets counted; a crashed process's slots lapse on their own."""
        while True:
            await asyncio.sleep(SOCKET_RENEW_S)
            try:
                await self.limits.renew(list(self._slots.values()))
            except REDIS_DOWN as error:
                log.warning("web chat: could not renew socket slots: %s", error)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/ws/chat", self.handle_socket)]

    def identify(self, hello: dict[str, Any]) -> Visitor:
        lang = hello.get("lang") if hello.get("lang") in LANGUAGES else None
        customer_id = hello.get("customer_id")
        if customer_id:
            self._verify(str(customer_id), hello)
            return Visitor(customer_conversation(str(customer_id)), str(customer_id), lang=lang)
        visitor_id = str(hello.get("visitor_id") or "")
        if not VISITOR_ID.match(visitor_id):
            raise HelloError("bad_visitor_id")
        return Visitor(visitor_conversation(visitor_id), None, lang=lang)

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
        address = client_address(request, self.settings.trusted_proxies)
        try:
            visitor = dataclasses.replace(await self._hello(socket), address=address)
        except HelloError as error:
            await socket.send_json({"type": "error", "code": str(error)})
            await socket.close(code=CLOSE_UNAUTHORIZED, message=str(error).encode())
            return socket
        slot = Slot(uuid.uuid4().hex, visitor.conversation_id, limit_key(address))
        try:
            refusal = await self.limits.open_socket(slot)
        except REDIS_DOWN as error:
            return await _unavailable(socket, error)
        if refusal is not None:
            log.warning("web chat: refused a socket of %s from %s (%s)", visitor.conversation_id, address,
                        refusal.scope)
            await socket.send_json(self._refusal_frame("too_many_sockets", refusal, visitor.lang))
            await socket.close(code=CLOSE_LIMITED, message=b"too_many_sockets")
            return socket
        self._slots[slot.socket_id] = slot
        try:
            await self._serve(socket, visitor, slot)
        finally:
            del self._slots[slot.socket_id]
            with contextlib.suppress(*REDIS_DOWN):
                await self.limits.close_socket(slot)
        return socket

    async def _serve(self, socket: web.WebSocketResponse, visitor: Visitor, slot: Slot) -> None:
        # Listen before reading the history, so no reply falls between the two (and if the shared subscription
        # is down right now, this socket catches up from the transcript once it is back).
        with self.subscriber.listen(web_out_channel(visitor.conversation_id)) as replies:
            outlet = Outlet(self.redis, self.conversations, visitor.conversation_id, socket)
            try:
                history, lang = await outlet.history()
            except REDIS_DOWN as error:
                await _unavailable(socket, error)
                return
            chat = ChatSocket(visitor, slot, lang or visitor.lang,
                              new_visitor=visitor.customer_id is None and not history)
            await socket.send_json({"type": "welcome", "conversation_id": visitor.conversation_id,
                                    "history": history})
            pump = asyncio.create_task(outlet.pump(replies), name="kefu-webchat-socket")
            try:
                await self._receive(socket, chat)
            finally:
                await cancel_and_wait(pump)

    def _refusal_frame(self, code: str, refusal: Refusal, lang: str | None, client_id: str | None = None
                       ) -> dict[str, Any]:
        """Why (code, scope), when to try again (retry_after, seconds) and the customer's text saying both."""
        limit = {"conversation": self.settings.sockets_per_conversation}.get(refusal.scope, 0)
        key = "webchat.too_many_visitors" if refusal.scope == "visitors" else f"webchat.{code}_{refusal.scope}"
        frame: dict[str, Any] = {"type": "error", "code": code, "scope": refusal.scope,
                                 "retry_after": refusal.retry_after_s}
        if client_id is not None:
            frame["id"] = client_id
        frame["message"] = t(key, lang, seconds=refusal.retry_after_s, limit=limit,
                             minutes=max(1, -(-refusal.retry_after_s // 60)))
        return frame

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

    async def _receive(self, socket: web.WebSocketResponse, chat: ChatSocket) -> None:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            reply = await self._take_frame(frame.data, chat)
            await socket.send_json(reply)

    async def _take_frame(self, data: str, chat: ChatSocket) -> dict[str, Any]:
        """Validate one client frame, check the limits, and queue its message; the answer is an ack or an error
        frame."""
        visitor = chat.visitor
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
            refusal = await self.limits.admit_message(message.message_id, chat.slot,
                                                      visitor.conversation_id if chat.new_visitor else None)
            if refusal is not None:
                log.warning("web chat: refused a message of %s from %s (%s)", visitor.conversation_id,
                            visitor.address, refusal.scope)
                code = "too_many_visitors" if refusal.scope == "visitors" else "too_many_messages"
                return self._refusal_frame(code, refusal, detect_language(text) or chat.lang, client_id)
            chat.new_visitor = False
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


async def _unavailable(socket: web.WebSocketResponse, error: Exception) -> web.WebSocketResponse:
    """Redis is down as the socket opens: the widget connects again a little later."""
    log.error("web chat: Redis unavailable at connect: %s", error)
    await socket.send_json({"type": "error", "code": "unavailable", "retry": True})
    await socket.close(code=CLOSE_TRY_AGAIN, message=b"unavailable")
    return socket
