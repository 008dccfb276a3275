"""Telegram's input side (``/webhooks/telegram``, or long polling for local development).

A webhook update is checked (secret token in constant time, JSON content), turned into a PTB ``Update`` and
persisted through the intake before Telegram gets its 200; ``update_id`` deduplicates redeliveries, whatever
order they come in. Button presses come back as callback queries carrying the button's payload. What the
channel answers itself (``/start``, a photo, a link) is delivered after the 200, through the one Delivery.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from telegram import Bot, CallbackQuery, Message, Update
from telegram.error import TelegramError

from kefu.channels.base import BUTTON_PAYLOAD, ChannelReceiver
from kefu.channels.intake import Intake
from kefu.channels.linking import (
    ChannelUser,
    Customers,
    LinkRequest,
    parse_link_command,
    parse_unlink_command,
)
from kefu.core.delivery import Delivery
from kefu.core.i18n import detect_language, language_of, t
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.core.tasks import cancel_and_wait
from kefu.core.untrusted import parse_json

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)


def _chat_ok(message: Message) -> bool:
    return message.chat is not None and type(message.chat.id) is int and type(message.message_id) is int


def well_formed(update: Update) -> bool:
    """What the receiver reads is there and typed as Telegram sends it: python-telegram-bot's ``de_json`` is
    lenient (a message without a chat, a chat id that is a dict), and such an update was a 500 (bench fuzz)."""
    if update.message is not None:
        return _chat_ok(update.message) and (update.message.text is None or isinstance(update.message.text, str))
    query = update.callback_query
    if query is not None:
        return (isinstance(query.id, str) and query.from_user is not None and type(query.from_user.id) is int
                and (query.message is None or _chat_ok(query.message))
                and (query.data is None or isinstance(query.data, str)))
    return True


class TelegramReceiver(ChannelReceiver):
    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        delivery: Delivery,
        customers: Customers,
        webhook_secret: str,
    ) -> None:
        self.bot = bot
        self.intake = intake
        self.delivery = delivery
        self.customers = customers
        self.webhook_secret = webhook_secret
        self._background: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        # Each reply in flight is cancelled until it ends: redis-py can lose a single cancel (kefu/core/tasks.py).
        await asyncio.gather(*(cancel_and_wait(task) for task in list(self._background)), return_exceptions=True)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/webhooks/telegram", self.handle_webhook)]

    async def handle_webhook(self, request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret.encode(), self.webhook_secret.encode()):
            log.warning("telegram: refused an update with a bad secret token")
            return web.Response(status=403, text="bad secret token")
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        try:
            data = parse_json(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="bad JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not a Telegram update")
        try:
            update = Update.de_json(data, self.bot)
        except (KeyError, TypeError, ValueError, AttributeError):
            return web.Response(status=400, text="not a Telegram update")
        if not well_formed(update):
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
        link = parse_link_command(text)
        if link is not None:
            await self._link(user, link, msg_id, lang, str(message.from_user.id) if message.from_user else None)
            return
        if parse_unlink_command(text):
            await self._unlink(user, text, msg_id, _lang_of(message.from_user.language_code) if message.from_user else None)
            return
        inbound = self._inbound(user, text, msg_id)
        taken = await self.intake.take(inbound)
        if taken.refused is not None and taken.fresh:
            self._reply_later(user.conversation_id, taken.answer or "")

    async def _take_callback(self, update_id: int, query: CallbackQuery) -> None:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        user = await self.customers.resolve(self.name, str(chat_id))
        payload = query.data or ""
        self._spawn(self._answer_callback(query))
        if not BUTTON_PAYLOAD.match(payload):
            log.warning("telegram: ignored a callback with payload %r", payload[:64])
            return
        title = _button_title(query, payload) or payload
        await self.intake.take(self._inbound(user, title, str(update_id), {"payload": payload}))

    def _inbound(self, user: ChannelUser, text: str, msg_id: str, metadata: dict | None = None) -> InboundMessage:
        return InboundMessage(channel=self.name, sender=user.user_id, conversation_id=user.conversation_id,
                              text=text, message_id=msg_id, customer_id=user.customer_id, metadata=metadata or {})

    async def _note(self, user: ChannelUser, text: str, msg_id: str, answer_key: str, lang: str | None,
                    **fields: object) -> None:
        """Kept for agents, answered here without the bot (``/start``, photos, stickers...)."""
        inbound = self._inbound(user, text, msg_id)
        if await self.intake.keep(inbound):
            lang = lang or (await self.delivery.conversations.record(user.conversation_id)).get("lang")
            self._reply_later(user.conversation_id, t(answer_key, lang, **fields))

    async def _link(self, user: ChannelUser, link: LinkRequest, msg_id: str, lang: str | None,
                    person: str | None) -> None:
        """``person``: the Telegram user behind the chat, whose wrong tries count across all their chats."""
        if not await self.intake.keep(self._inbound(user, f"/link {link.order_id} ****", msg_id)):
            return
        outcome, _ = await self.customers.link(self.name, user.user_id, link, person)
        now = await self.customers.resolve(self.name, user.user_id)
        self._reply_later(now.conversation_id, t(outcome.answer_key, lang), role="system")

    async def _unlink(self, user: ChannelUser, text: str, msg_id: str, app_lang: str | None) -> None:
        """Kept in the customer's history, answered in the chat's own conversation, in the customer's language
        (the conversation's, else the Telegram app's)."""
        inbound = self._inbound(user, text, msg_id)
        if not await self.intake.keep(inbound):
            return
        lang = language_of(text, (await self.delivery.conversations.record(inbound.conversation_id)).get("lang"),
                           app_lang)
        outcome = await self.customers.unlink(self.name, user.user_id)
        now = await self.customers.resolve(self.name, user.user_id)
        self._reply_later(now.conversation_id, t(outcome.answer_key, lang), role="system")

    def _reply_later(self, conversation_id: str, text: str, role: str = "bot") -> None:
        """Answer without holding up Telegram's 200."""
        self._spawn(self.delivery.deliver(self.name, OutboundMessage(conversation_id, text, role=role)))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_callback(self, query: CallbackQuery) -> None:
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramError as error:  # only the button's spinner is affected
            log.info("telegram: answerCallbackQuery failed: %s", error)

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
