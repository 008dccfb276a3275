"""Replies to one web-chat socket: live from the process's shared subscription, and from the transcript (the
source of truth) whenever the subscription may have missed some, e.g. across a Redis restart.

Each socket remembers how far into the transcript it has read and the ids of what it has shown, so a catch-up
sends only what is new, and a reply that arrives both live and in the catch-up is shown once.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.subscription import RESYNC, Subscription, keep_trying

log = logging.getLogger(__name__)

HISTORY_LIMIT = 500
# A catch-up re-reads a few entries before the remembered index: a merge of histories (kefu/core/conversations.py)
# can slot entries in before it. Ids keep them from being shown twice.
CATCH_UP_SLACK = 20
SEEN_MAX = 2000
PUBLIC_FIELDS = ("id", "role", "text", "ts", "buttons")


def public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """What the customer's own widget may see of the transcript (not the bot's understanding)."""
    return {k: entry[k] for k in PUBLIC_FIELDS if k in entry}


class Outlet:
    """One socket's view of its conversation's replies."""

    def __init__(self, redis: aioredis.Redis, conversations: ConversationStore, conversation_id: str,
                 socket: web.WebSocketResponse) -> None:
        self.redis = redis
        self.conversations = conversations
        self.conversation_id = conversation_id
        self.socket = socket
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._live_id = conversation_id
        self._index = 0

    async def history(self) -> tuple[list[dict[str, Any]], str | None]:
        """The transcript's tail for the welcome frame, and the conversation's language (None when new)."""
        raw, self._index, lang = await self._read(-HISTORY_LIMIT, with_lang=True)
        entries = [json.loads(item) for item in raw]
        for entry in entries:
            self._mark(entry.get("id"))
        return [public_entry(entry) for entry in entries], lang

    async def pump(self, subscription: Subscription) -> None:
        """Forward replies until the socket goes; on RESYNC, catch up from the transcript first."""
        while True:
            item = await subscription.get()
            try:
                if item is RESYNC:
                    await keep_trying(self.catch_up, f"web chat catch-up of {self.conversation_id}")
                else:
                    await self._send(json.loads(item))
            except (ValueError, KeyError, TypeError):  # one unreadable reply must not silence the socket
                log.exception("web chat: could not forward a reply to %s", self.conversation_id)

    async def catch_up(self) -> None:
        """Send the replies stored since this socket last read the transcript that it has not shown yet."""
        live_id = await self.conversations.live_id(self.conversation_id)
        start = max(0, self._index - CATCH_UP_SLACK) if live_id == self._live_id else -HISTORY_LIMIT
        raw, self._index, _ = await self._read(start, live_id=live_id)
        for item in raw:
            entry = json.loads(item)
            # Only what the live path would have sent: replies on web chat (the customer's own lines are shown
            # by the widget itself; a linked customer's WeChat or Telegram replies stay on those channels).
            if entry.get("role") != "customer" and entry.get("channel", "web") == "web":
                await self._send(entry)

    async def _read(self, start: int, *, live_id: str | None = None, with_lang: bool = False
                    ) -> tuple[list[str], int, str | None]:
        """Transcript entries from ``start`` and its length in one transaction (nothing slips between)."""
        self._live_id = live_id or await self.conversations.live_id(self.conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(keys.transcript(self._live_id), start, -1)
            pipe.llen(keys.transcript(self._live_id))
            if with_lang:
                pipe.hget(keys.conversation(self._live_id), "lang")
            results = await pipe.execute()
        return results[0], int(results[1]), results[2] if with_lang else None

    async def _send(self, entry: dict[str, Any]) -> None:
        entry_id = entry.get("id")
        if entry_id is not None and entry_id in self._seen:
            return
        self._mark(entry_id)
        if self.socket.closed:
            return
        try:
            await self.socket.send_str(json.dumps({"type": "message"} | public_entry(entry), ensure_ascii=False))
        except ConnectionError:
            log.debug("web chat: socket of %s closed while sending", self.conversation_id)

    def _mark(self, entry_id: str | None) -> None:
        if entry_id is None:
            return
        self._seen[entry_id] = None
        if len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
