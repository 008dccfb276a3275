"""WeChat official account (``/webhooks/wechat``): verify, persist, and answer within WeChat's 5 seconds.

Every request is verified before anything is parsed or stored (signature in constant time, a fresh timestamp,
a nonce not seen before, no entity declarations, at most 64 KiB, the right appid in safe mode). A text message
is written to the durable inbox, then the request waits up to ~4 s for the pipeline's first reply and returns
it as the passive reply; later (or late) replies go through the customer-service message API. Replies that
cannot be delivered (48-hour window, quota) stay on the conversation, flagged for agents.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web
from wechatpy.messages import BaseMessage

from kefu.channels.base import Channel
from kefu.channels.linking import ChannelUser, Customers, LinkRequest, link_key, parse_link_command
from kefu.channels.wechat.api import CustomerServiceApi, DeliveryFailed
from kefu.channels.wechat.passive import WAIT_S, PassiveReplies
from kefu.channels.wechat.verify import MAX_AGE_S, VerificationError, WeChatVerifier
from kefu.channels.wechat.xml import BadXml, parse_envelope, read_message, text_reply
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import detect_language, t
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage, OutboundMessage, clipped

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
WINDOW_S = 48 * 3600
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
SUCCESS = "success"


@dataclass(frozen=True)
class Normalised:
    """What a WeChat message means to Kefu: ``route`` is bot (ask the pipeline), greet, note or ignore."""

    route: str
    text: str


def _text(message: BaseMessage) -> Normalised:
    return Normalised("bot", (message.content or "").strip())


def _voice(message: BaseMessage) -> Normalised:
    # With speech recognition switched on, WeChat sends the words too: that is a text message.
    if message.recognition:
        return Normalised("bot", message.recognition.strip())
    return Normalised("note", "[语音 voice]")


def _image(message: BaseMessage) -> Normalised:
    return Normalised("note", f"[图片 image] {message.image or ''}".strip())


def _location(message: BaseMessage) -> Normalised:
    return Normalised("note", f"[位置 location] {message.label or ''} ({message.location_x}, {message.location_y})")


def _event(message: BaseMessage) -> Normalised:
    return EVENTS.get(message.event, Normalised("ignore", ""))


MESSAGES: dict[str, Callable[[BaseMessage], Normalised]] = {
    "text": _text,
    "voice": _voice,
    "image": _image,
    "location": _location,
    "event": _event,
}
EVENTS: dict[str, Normalised] = {
    "subscribe": Normalised("greet", "[关注 subscribe]"),
    "subscribe_scan": Normalised("greet", "[关注 subscribe]"),
}


def normalise(message: BaseMessage) -> Normalised:
    """Registry lookup; anything unknown (video, link, a new type) gets the polite 'text only' answer."""
    handler = MESSAGES.get(message.type)
    return handler(message) if handler else Normalised("note", f"[{message.type}]")


def message_id(message: BaseMessage) -> str:
    """WeChat's MsgId; events have none, so the sender plus CreateTime identify them (as WeChat suggests)."""
    if message.id:
        return str(message.id)
    return f"{message.source}:{message.time}:{getattr(message, 'event', '')}"


def window_key(openid: str) -> str:
    return f"kefu:wx:window:{openid}"


@dataclass(frozen=True)
class Opened:
    xml: str
    encrypted: bool
    nonce: str
    timestamp: int


class WeChatChannel(Channel):
    name = "wechat"

    def __init__(
        self,
        redis: aioredis.Redis,
        inbox: Inbox,
        conversations: ConversationStore,
        customers: Customers,
        verifier: WeChatVerifier,
        api: CustomerServiceApi,
        max_message_chars: int,
        wait_s: float = WAIT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.inbox = inbox
        self.conversations = conversations
        self.customers = customers
        self.verifier = verifier
        self.api = api
        self.max_message_chars = max_message_chars
        self.clock = clock
        self.passive = PassiveReplies(redis, self._send_by_api, wait_s)

    async def start(self) -> None:
        await self.passive.start()

    async def stop(self) -> None:
        await self.passive.stop()
        self.api.close()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/webhooks/wechat", self.handle_verify), web.post("/webhooks/wechat", self.handle_message)]

    # --- outbound -------------------------------------------------------------------------------------

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        if await self.passive.offer(conversation_id, message.message_id, message.text):
            return
        await self._send_by_api(conversation_id, message.message_id, message.text)

    async def _send_by_api(self, conversation_id: str, message_id: str, text: str) -> None:
        openid = await self.customers.address(conversation_id, self.name)
        try:
            if openid is None:
                raise DeliveryFailed("no_wechat_user")
            if not await self.redis.exists(window_key(openid)):
                raise DeliveryFailed("window_closed")
            await self.api.send_text(openid, text)
        except DeliveryFailed as failure:
            log.warning("wechat: reply %s on %s kept undelivered: %s", message_id, conversation_id, failure.reason)
            await self.conversations.mark_undelivered(conversation_id, message_id, failure.reason)

    # --- inbound --------------------------------------------------------------------------------------

    async def handle_verify(self, request: web.Request) -> web.Response:
        """The URL check WeChat makes when the server address is configured: echo ``echostr`` if signed."""
        query = request.query
        try:
            self.verifier.check_fresh(query.get("timestamp"), self.clock())
            self.verifier.check_signature(query.get("signature"), query["timestamp"], query.get("nonce", ""))
        except VerificationError as error:
            return _refuse(error.status, error.reason)
        return web.Response(text=query.get("echostr", ""))

    async def handle_message(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _refuse(413, "body too large")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, "body too large")
        try:
            opened = self._open(request.query, body)
            message = read_message(opened.xml)
            user = await self._arrive(opened, message)
            reply = await self._answer(message, user)
        except VerificationError as error:
            return _refuse(error.status, error.reason)
        except BadXml as error:
            return _refuse(400, str(error))
        except REDIS_DOWN as error:
            log.error("wechat: Redis unavailable, message refused for a retry: %s", error)
            return web.Response(status=503, text="unavailable")
        if reply is None:
            return web.Response(text=SUCCESS)
        xml = text_reply(message.source, message.target, reply, self.clock())
        if opened.encrypted:
            xml = self.verifier.encrypt_reply(xml, opened.nonce, opened.timestamp)
        return web.Response(text=xml, content_type="application/xml")

    def _open(self, query: dict[str, str], body: bytes) -> Opened:
        """Verify the request and return the message XML (decrypted in safe mode)."""
        timestamp = self.verifier.check_fresh(query.get("timestamp"), self.clock())
        nonce = query.get("nonce", "")
        if not nonce or len(nonce) > 64:
            raise VerificationError("missing nonce", 400)
        if query.get("encrypt_type", "raw") == "aes":
            envelope = parse_envelope(body)
            encrypted = envelope.get("Encrypt")
            if not isinstance(encrypted, str) or not encrypted:
                raise BadXml("Encrypt is missing")
            self.verifier.check_signature(query.get("msg_signature"), str(timestamp), nonce, encrypted)
            return Opened(self.verifier.decrypt(encrypted), True, nonce, timestamp)
        if self.verifier.safe_mode:
            raise VerificationError("plain messages are refused in safe mode", 400)
        self.verifier.check_signature(query.get("signature"), str(timestamp), nonce)
        return Opened(_decode(body), False, nonce, timestamp)

    async def _arrive(self, opened: Opened, message: BaseMessage) -> ChannelUser:
        """One round trip: refuse a replayed nonce, open the 48-hour window, find who is writing."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(f"kefu:wx:nonce:{opened.timestamp}:{opened.nonce}", "1", nx=True, ex=2 * MAX_AGE_S)
            pipe.set(window_key(message.source), "1", ex=WINDOW_S)
            pipe.get(link_key(self.name, message.source))
            first_use, _, customer_id = await pipe.execute()
        if not first_use:
            raise VerificationError("replayed nonce", 409)
        return self.customers.user(self.name, message.source, customer_id)

    async def _answer(self, message: BaseMessage, user: ChannelUser) -> str | None:
        """Store the message and return the passive reply text, or None for ``success``."""
        meaning = normalise(message)
        msg_id = message_id(message)
        if meaning.route == "ignore":
            return None
        # Labels of photos, locations and events say nothing about the customer's language; their words do.
        said = detect_language(meaning.text) if meaning.route == "bot" else None
        lang = said or (await self.conversations.record(user.conversation_id)).get("lang")
        if meaning.route == "bot":
            if not meaning.text:
                return t("gateway.empty", lang)
            if len(meaning.text) > self.max_message_chars:
                return await self._note(user, clipped(meaning.text, self.max_message_chars), msg_id,
                                        t("gateway.too_long", lang, limit=self.max_message_chars))
            link = parse_link_command(meaning.text)
            if link is not None:
                return await self._link(user, link, msg_id, lang)
            return await self._ask_bot(user, meaning.text, msg_id)
        key = "smalltalk.greet" if meaning.route == "greet" else "channels.unsupported"
        return await self._note(user, meaning.text, msg_id, t(key, lang))

    async def _ask_bot(self, user: ChannelUser, text: str, msg_id: str) -> str | None:
        inbound = InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                                 text=text, message_id=msg_id, customer_id=user.customer_id)
        # The waiter is registered with the message, so a fast pipeline cannot answer before anyone listens.
        waiter = self.passive.expect(user.conversation_id)
        fresh = False
        try:
            fresh = await self.inbox.submit(inbound, self.passive.waiting(waiter))
        finally:
            if waiter is not None and not fresh:  # a retry of a message we have: its answer comes once, elsewhere
                self.passive.forget(waiter)
        if waiter is None or not fresh:
            return None
        return await self.passive.wait(waiter)

    async def _note(self, user: ChannelUser, text: str, msg_id: str, answer: str) -> str | None:
        """Something the bot does not read (a photo, a location, an event, a message too long): kept for agents,
        answered here."""
        inbound = InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                                 text=text, message_id=msg_id, customer_id=user.customer_id)
        if not await self.inbox.record(inbound):
            return None
        await self.conversations.add_reply(OutboundMessage(user.conversation_id, answer), self.name)
        return answer

    async def _link(self, user: ChannelUser, link: LinkRequest, msg_id: str, lang: str | None) -> str | None:
        redacted = InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                                  text=f"绑定 link {link.order_id} ****", message_id=msg_id,
                                  customer_id=user.customer_id)
        if not await self.inbox.record(redacted):
            return None
        outcome, _ = await self.customers.link(self.name, user.user_id, link)
        now = await self.customers.resolve(self.name, user.user_id)
        answer = t(outcome.answer_key, lang)
        await self.conversations.add_reply(OutboundMessage(now.conversation_id, answer, role="system"), self.name)
        return answer


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadXml("the body is not UTF-8") from None


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("wechat: refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason)
