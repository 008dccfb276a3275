"""WeChat's input side (``/webhooks/wechat``): verify, persist, and answer within WeChat's 5 seconds.

Every request is verified before anything is parsed or stored (signature in constant time, a fresh timestamp,
a nonce not seen before, no entity declarations, at most 64 KiB, the right appid in safe mode). A text message
is written to the durable inbox (with the request's checks, in one round trip), then the request waits up to ~4 s for the pipeline's first reply and returns
it as the passive reply; later (or late) replies go through the customer-service message API (sender.py).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import redis.asyncio as aioredis
from aiohttp import web
from wechatpy.messages import BaseMessage

from kefu.channels.base import ChannelReceiver
from kefu.channels.intake import Intake
from kefu.channels.linking import (
    ChannelUser,
    Customers,
    LinkRequest,
    parse_link_command,
    parse_unlink_command,
)
from kefu.channels.recent_links import RecentLinks
from kefu.channels.wechat.passive import WAIT_S, PassiveReplies
from kefu.channels.wechat.sender import WeChatSender
from kefu.channels.wechat.verify import MAX_AGE_S, VerificationError, WeChatVerifier
from kefu.channels.wechat.xml import BadXml, parse_envelope, read_message, text_reply
from kefu.core import keys
from kefu.core.delivery import Delivery
from kefu.core.i18n import t
from kefu.core.inbox import Arrival, LinkChanged, Replayed
from kefu.core.messages import InboundMessage, OutboundMessage

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


@dataclass(frozen=True)
class Opened:
    xml: str
    encrypted: bool
    nonce: str
    timestamp: int


class WeChatReceiver(ChannelReceiver):
    name = "wechat"

    def __init__(
        self,
        redis: aioredis.Redis,
        intake: Intake,
        delivery: Delivery,
        customers: Customers,
        verifier: WeChatVerifier,
        sender: WeChatSender,
        wait_s: float = WAIT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.intake = intake
        self.delivery = delivery
        self.customers = customers
        self.verifier = verifier
        self.clock = clock
        self.links = RecentLinks()
        # A reply that comes after its request gave up is sent through the API instead.
        self.passive = PassiveReplies(redis, sender.send_by_api, wait_s)

    async def start(self) -> None:
        await self.passive.start()

    async def stop(self) -> None:
        await self.passive.stop()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/webhooks/wechat", self.handle_verify), web.post("/webhooks/wechat", self.handle_message)]

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
            reply = await self._receive(opened, message)
        except VerificationError as error:
            return _refuse(error.status, error.reason)
        except Replayed:
            return _refuse(409, "replayed nonce")
        except LinkChanged:  # linked or unlinked twice while this one request was taken in: WeChat sends it again
            return web.Response(status=503, text="busy")
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

    async def _receive(self, opened: Opened, message: BaseMessage) -> str | None:
        """Store the message and return the passive reply text, or None for ``success``. A text for the bot (nearly
        every request) is stored with the request's checks in one round trip; anything else finds the user first."""
        meaning = normalise(message)
        if meaning.route == "bot" and not _is_command(meaning.text):
            try:
                return await self._ask_bot_as(opened, message, meaning, self.links.get(message.source))
            except LinkChanged as changed:  # linked or unlinked since this process last saw them: once more
                self.links.remember(message.source, changed.customer_id)
                return await self._ask_bot_as(opened, message, meaning, changed.customer_id)
        return await self._answer(message, meaning, await self._arrive(opened, message))

    def _arrival(self, opened: Opened, message: BaseMessage, customer_id: str | None) -> Arrival:
        """What a request checks as it arrives: a replayed nonce, the 48-hour window opened, who is writing."""
        return Arrival(once=keys.wechat_nonce(opened.timestamp, opened.nonce), once_ttl_s=2 * MAX_AGE_S,
                       touch=keys.wechat_window(message.source), touch_ttl_s=WINDOW_S,
                       link=keys.link(self.name, message.source), linked=customer_id or "")

    async def _arrive(self, opened: Opened, message: BaseMessage) -> ChannelUser:
        """The arrival's checks on their own, in one round trip, for messages that need the user to be answered."""
        arrival = self._arrival(opened, message, None)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(arrival.once, "1", nx=True, ex=arrival.once_ttl_s)
            pipe.set(arrival.touch, "1", ex=arrival.touch_ttl_s)
            pipe.get(arrival.link)
            first_use, _, customer_id = await pipe.execute()
        if not first_use:
            raise Replayed()
        self.links.remember(message.source, customer_id)
        return self.customers.user(self.name, message.source, customer_id)

    async def _ask_bot_as(self, opened: Opened, message: BaseMessage, meaning: Normalised,
                          customer_id: str | None) -> str | None:
        """Ask the bot in the conversation of ``customer_id``; LinkChanged when the user's link is not that."""
        user = self.customers.user(self.name, message.source, customer_id)
        return await self._ask_bot(self._inbound(message, meaning, user), self._arrival(opened, message, customer_id))

    def _inbound(self, message: BaseMessage, meaning: Normalised, user: ChannelUser) -> InboundMessage:
        return InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                              text=meaning.text, message_id=message_id(message), customer_id=user.customer_id)

    async def _answer(self, message: BaseMessage, meaning: Normalised, user: ChannelUser) -> str | None:
        """What is not a plain text for the bot: a photo, an event, a link or unlink command."""
        if meaning.route == "ignore":
            return None
        inbound = self._inbound(message, meaning, user)
        if meaning.route != "bot":
            # Labels of photos, locations and events say nothing about the customer's language.
            key = "smalltalk.greet" if meaning.route == "greet" else "channels.unsupported"
            lang = (await self.delivery.conversations.record(user.conversation_id)).get("lang")
            return await self._kept(inbound, t(key, lang))
        link = parse_link_command(meaning.text)
        if link is not None:
            return await self._link(user, link, inbound)
        if parse_unlink_command(meaning.text):
            return await self._unlink(user, inbound)
        return await self._ask_bot(inbound)

    async def _ask_bot(self, inbound: InboundMessage, arrival: Arrival | None = None) -> str | None:
        # The waiter is registered with the message, so a fast pipeline cannot answer before anyone listens.
        waiter = self.passive.expect(inbound.conversation_id)
        taken = None
        try:
            taken = await self.intake.take(inbound, self.passive.waiting(waiter), arrival)
        finally:
            if waiter is not None and (taken is None or not taken.fresh or taken.refused):
                # A retry of a message we have (its answer comes once, elsewhere), or one the bot never sees.
                self.passive.forget(waiter)
        if taken.refused is not None:
            return await self._answered(inbound, taken.answer or "", taken.fresh or taken.refused == "empty")
        if waiter is None or not taken.fresh:
            return None
        return await self.passive.wait(waiter)

    async def _kept(self, inbound: InboundMessage, answer: str) -> str | None:
        """Something the bot does not read (a photo, a location, an event): kept for agents, answered here."""
        return await self._answered(inbound, answer, await self.intake.keep(inbound))

    async def _answered(self, inbound: InboundMessage, answer: str, fresh: bool) -> str | None:
        """The passive reply for a message the channel answers itself; kept in the transcript when it was new."""
        if not fresh:
            return None
        if answer and inbound.text.strip():
            await self.delivery.keep(self.name, OutboundMessage(inbound.conversation_id, answer))
        return answer

    async def _link(self, user: ChannelUser, link: LinkRequest, inbound: InboundMessage) -> str | None:
        redacted = replace(inbound, text=f"绑定 link {link.order_id} ****")
        if not await self.intake.keep(redacted):
            return None
        outcome, _ = await self.customers.link(self.name, user.user_id, link)
        now = await self.customers.resolve(self.name, user.user_id)
        self.links.remember(user.user_id, now.customer_id)
        answer = t(outcome.answer_key, await self.intake.language(inbound))
        await self.delivery.keep(self.name, OutboundMessage(now.conversation_id, answer, role="system"))
        return answer

    async def _unlink(self, user: ChannelUser, inbound: InboundMessage) -> str | None:
        """Kept in the customer's history; the answer (the customer's language) starts the user's own again."""
        if not await self.intake.keep(inbound):
            return None
        lang = await self.intake.language(inbound)
        outcome = await self.customers.unlink(self.name, user.user_id)
        now = await self.customers.resolve(self.name, user.user_id)
        self.links.remember(user.user_id, now.customer_id)
        answer = t(outcome.answer_key, lang)
        await self.delivery.keep(self.name, OutboundMessage(now.conversation_id, answer, role="system"))
        return answer


def _is_command(text: str) -> bool:
    return parse_link_command(text) is not None or parse_unlink_command(text)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadXml("the body is not UTF-8") from None


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("wechat: refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason)
