"""Telegram (``/webhooks/telegram``, or long polling for local development) through python-telegram-bot.

A webhook update is checked (secret token in constant time, JSON content), turned into a PTB ``Update`` and
persisted through the inbox before Telegram gets its 200; ``update_id`` deduplicates redeliveries, whatever
order they come in. Replies go out through PTB's Bot within Telegram's limits, a long one as several messages
in order; buttons become an inline keyboard (on the last of them) whose presses come back as callback queries
carrying the button's payload.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta

import httpx
import redis.asyncio as aioredis
from aiohttp import web
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from kefu.channels.base import Channel
from kefu.channels.linking import ChannelUser, Customers, LinkRequest, parse_link_command
from kefu.channels.telegram.limits import TelegramLimiter
from kefu.channels.telegram.text import split_message
from kefu.channels.webchat.channel import BUTTON_PAYLOAD
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import detect_language, t
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage, OutboundMessage, clipped

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_ATTEMPTS = 5
BACKOFF_S = (0.5, 1, 2, 4)
SENT_TTL_S = 7 * 24 * 3600
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
# These failures happen before the request reaches Telegram: sending again cannot make a duplicate.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def make_bot(token: str, base_url: str, read_timeout: float = 10.0) -> Bot:
    """PTB's Bot, pointed at ``base_url`` (Telegram, or a local Bot API server in tests)."""
    return Bot(token, base_url=base_url, request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=5.0))


def _retry_after_s(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta: both are handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _never_reached_telegram(error: TelegramError) -> bool:
    return isinstance(error.__cause__, NOT_SENT)


@dataclass(frozen=True)
class _Failure:
    """Why a part was not delivered; ``may_have_arrived`` when Telegram may have it all the same."""

    reason: str
    may_have_arrived: bool = False


class TelegramChannel(Channel):
    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        redis: aioredis.Redis,
        inbox: Inbox,
        conversations: ConversationStore,
        customers: Customers,
        webhook_secret: str,
        max_message_chars: int,
    ) -> None:
        self.bot = bot
        self.redis = redis
        self.inbox = inbox
        self.conversations = conversations
        self.customers = customers
        self.webhook_secret = webhook_secret
        self.max_message_chars = max_message_chars
        self.limiter = TelegramLimiter(redis)
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            await self.bot.initialize()
        except NetworkError as error:  # requests are ready anyway; get_me is retried on the next initialize
            log.warning("telegram: Bot API unreachable at start (%s); will send when it is back", error)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.bot.shutdown()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/webhooks/telegram", self.handle_webhook)]

    # --- inbound --------------------------------------------------------------------------------------

    async def handle_webhook(self, request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret.encode(), self.webhook_secret.encode()):
            log.warning("telegram: refused an update with a bad secret token")
            return web.Response(status=403, text="bad secret token")
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="bad JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not a Telegram update")
        try:
            update = Update.de_json(data, self.bot)
        except (KeyError, TypeError, ValueError, AttributeError):
            return web.Response(status=400, text="not a Telegram update")
        try:
            await self.take_update(update)
        except REDIS_DOWN as error:
            log.error("telegram: Redis unavailable, update %s left for Telegram to retry: %s", update.update_id, error)
            return web.Response(status=503, text="unavailable")
        return web.Response(text="ok")

    async def take_update(self, update: Update) -> None:
        """Persist one update (webhook or polling); duplicates and updates we do not handle are dropped."""
        if update.callback_query is not None:
            await self._take_callback(update.update_id, update.callback_query)
        elif update.message is not None:
            await self._take_message(update.update_id, update.message)

    async def _take_message(self, update_id: int, message: Message) -> None:
        user = await self.customers.resolve(self.name, str(message.chat.id))
        msg_id = str(update_id)
        text = (message.text or "").strip()
        if not text:  # a photo, sticker, voice, location...
            kind = next((k for k in ("photo", "sticker", "voice", "location", "document", "video")
                         if getattr(message, k, None)), "message")
            await self._note(user, f"[{kind}] {message.caption or ''}".strip(), msg_id, "channels.unsupported",
                             detect_language(message.caption))
            return
        lang = detect_language(text)
        if text.split("@")[0] == "/start":
            user_lang = _lang_of(message.from_user.language_code) if message.from_user else None
            await self._note(user, text, msg_id, "smalltalk.greet", lang or user_lang)
            return
        if len(text) > self.max_message_chars:
            await self._note(user, clipped(text, self.max_message_chars), msg_id, "gateway.too_long", lang,
                             limit=self.max_message_chars)
            return
        link = parse_link_command(text)
        if link is not None:
            await self._link(user, link, msg_id, lang)
            return
        await self.inbox.submit(self._inbound(user, text, msg_id))

    async def _take_callback(self, update_id: int, query: CallbackQuery) -> None:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        user = await self.customers.resolve(self.name, str(chat_id))
        payload = query.data or ""
        self._spawn(self._answer_callback(query))
        if not BUTTON_PAYLOAD.match(payload):
            log.warning("telegram: ignored a callback with payload %r", payload[:64])
            return
        title = _button_title(query, payload) or payload
        await self.inbox.submit(self._inbound(user, title, str(update_id), {"payload": payload}))

    def _inbound(self, user: ChannelUser, text: str, msg_id: str, metadata: dict | None = None) -> InboundMessage:
        return InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                              text=text, message_id=msg_id, customer_id=user.customer_id, metadata=metadata or {})

    async def _note(self, user: ChannelUser, text: str, msg_id: str, answer_key: str, lang: str | None,
                    **fields: object) -> None:
        """Kept for agents, answered here without the bot (``/start``, photos, stickers, too long...)."""
        if await self.inbox.record(self._inbound(user, text, msg_id)):
            lang = lang or (await self.conversations.record(user.conversation_id)).get("lang")
            self._reply_later(user.conversation_id, t(answer_key, lang, **fields))

    async def _link(self, user: ChannelUser, link: LinkRequest, msg_id: str, lang: str | None) -> None:
        if not await self.inbox.record(self._inbound(user, f"/link {link.order_id} ****", msg_id)):
            return
        outcome, _ = await self.customers.link(self.name, user.user_id, link)
        now = await self.customers.resolve(self.name, user.user_id)
        self._reply_later(now.conversation_id, t(outcome.answer_key, lang), role="system")

    def _reply_later(self, conversation_id: str, text: str, role: str = "bot") -> None:
        """Answer without holding up Telegram's 200 (the answer is stored first, like the pipeline's)."""
        reply = OutboundMessage(conversation_id, text, role=role)

        async def deliver() -> None:
            await self.conversations.add_reply(reply, self.name)
            await self.send(conversation_id, reply)

        self._spawn(deliver())

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_callback(self, query: CallbackQuery) -> None:
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramError as error:  # only the button's spinner is affected
            log.info("telegram: answerCallbackQuery failed: %s", error)

    # --- outbound -------------------------------------------------------------------------------------

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        await self._send(conversation_id, message, None)

    async def send_buttons(self, conversation_id: str, message: OutboundMessage) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=b.payload)
                                          for b in message.buttons]])
        await self._send(conversation_id, message, keyboard)

    async def _send(self, conversation_id: str, message: OutboundMessage,
                    keyboard: InlineKeyboardMarkup | None) -> None:
        chat_id = await self.customers.address(conversation_id, self.name)
        if chat_id is None:
            await self._undelivered(conversation_id, message, "no_telegram_chat")
            return
        parts = split_message(message.text)
        for index, text in enumerate(parts):
            last = index == len(parts) - 1
            failure = await self._send_part(chat_id, f"{message.message_id}:{index}", text,
                                            keyboard if last else None)
            if failure is None:
                continue
            part = f" (part {index + 1}/{len(parts)})" if len(parts) > 1 else ""
            await self._undelivered(conversation_id, message, failure.reason + part)
            if not failure.may_have_arrived:  # the next parts would arrive with a gap before them
                return

    async def _send_part(self, chat_id: str, part_id: str, text: str,
                         keyboard: InlineKeyboardMarkup | None) -> _Failure | None:
        """Send one message within the limits; None once sent, or when this part was attempted before."""
        # One attempt per part, across processes: a redelivered reply never sends a part twice.
        if not await self.redis.set(f"kefu:tg:sent:{part_id}", "1", nx=True, ex=SENT_TTL_S):
            return None
        for attempt in range(MAX_ATTEMPTS):
            await self.limiter.wait(chat_id)
            try:
                await self.bot.send_message(chat_id, text, reply_markup=keyboard)
                return None
            except RetryAfter as error:
                seconds = _retry_after_s(error)
                log.warning("telegram: 429, retrying after %ss", seconds)
                await self.limiter.pause(seconds)
            except Forbidden:
                return _Failure("blocked_by_user")
            except BadRequest as error:
                return _Failure(f"bad_request: {error.message}"[:200])
            except NetworkError as error:  # TimedOut included
                if not _never_reached_telegram(error):
                    # Telegram may have it already and has no idempotency key: better once than twice.
                    return _Failure("uncertain_timeout" if isinstance(error, TimedOut) else "uncertain_network",
                                    may_have_arrived=True)
                await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            except TelegramError as error:
                return _Failure(f"telegram_error: {error.message}"[:200])
        return _Failure("unreachable")

    async def _undelivered(self, conversation_id: str, message: OutboundMessage, reason: str) -> None:
        log.warning("telegram: reply %s on %s kept undelivered: %s", message.message_id, conversation_id, reason)
        await self.conversations.mark_undelivered(conversation_id, message.message_id, reason)


def _button_title(query: CallbackQuery, payload: str) -> str | None:
    """The title of the pressed button, so the transcript reads like what the customer saw."""
    markup = query.message.reply_markup if query.message is not None else None
    for row in (markup.inline_keyboard if markup else ()):
        for button in row:
            if button.callback_data == payload:
                return button.text
    return None


def _lang_of(code: str | None) -> str | None:
    if not code:
        return None
    return "zh" if code.lower().startswith("zh") else "en"
