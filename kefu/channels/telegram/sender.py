"""Telegram's output side through python-telegram-bot: within Telegram's limits (shared in Redis), a long reply
as several messages in order, buttons as an inline keyboard on the last of them, each part sent at most once.
"""
from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta

import httpx
import redis.asyncio as aioredis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from kefu.channels.base import ChannelSender
from kefu.channels.linking import Customers
from kefu.channels.telegram.limits import TelegramLimiter
from kefu.channels.telegram.text import split_message
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_S = (0.5, 1, 2, 4)
SENT_TTL_S = 7 * 24 * 3600
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


class TelegramSender(ChannelSender):
    name = "telegram"

    def __init__(self, bot: Bot, redis: aioredis.Redis, conversations: ConversationStore,
                 customers: Customers) -> None:
        self.bot = bot
        self.redis = redis
        self.conversations = conversations
        self.customers = customers
        self.limiter = TelegramLimiter(redis)

    async def start(self) -> None:
        try:
            await self.bot.initialize()
        except NetworkError as error:  # requests are ready anyway; get_me is retried on the next initialize
            log.warning("telegram: Bot API unreachable at start (%s); will send when it is back", error)

    async def stop(self) -> None:
        await self.bot.shutdown()

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
        if not await self.redis.set(keys.telegram_part_sent(part_id), "1", nx=True, ex=SENT_TTL_S):
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


