"""Several Rasa processes behind one client: each conversation always goes to the same process.

One Rasa process answers on one core (its NLU, policies and tracker store run on one event loop), so on a
machine with more cores ``make run`` starts ``KEFU_RASA_PROCESSES`` of them (kefu/config/dialogue.py). They
share the tracker and lock stores in Redis, so any of them could answer any conversation; routing each
conversation to one keeps its lock uncontended and its turns in order without waiting on another process.
When that process does not answer (killed, restarting, still loading its model), the call goes to the next
one: the conversation is answered at once instead of waiting out the restart, and a turn sent again carries
its idempotency key, so the other process replays what the first one finished (rasa_addons/kefu_channel.py).
"""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from kefu.core.conversations import Understanding
from kefu.dialogue.rasa_client import RasaClient, RasaTurn, RasaUnavailable


class RasaPool:
    """The same calls as ``RasaClient``, spread over the Rasa processes by conversation."""

    def __init__(self, clients: Sequence[RasaClient]) -> None:
        if not clients:
            raise ValueError("a Rasa pool needs at least one Rasa process")
        self.clients = tuple(clients)

    @classmethod
    def connect(cls, session: aiohttp.ClientSession, urls: Sequence[str], token: str,
                timeout_s: float = 30.0) -> RasaPool:
        return cls([RasaClient(session, url, token, timeout_s) for url in urls])

    def for_conversation(self, conversation_id: str) -> RasaClient:
        return self.clients[zlib.crc32(conversation_id.encode()) % len(self.clients)]

    def _in_turn(self, conversation_id: str) -> tuple[RasaClient, ...]:
        """The conversation's process first, then the others in pool order."""
        first = zlib.crc32(conversation_id.encode()) % len(self.clients)
        return self.clients[first:] + self.clients[:first]

    async def _first_answer(self, conversation_id: str, call: Callable[[RasaClient], Awaitable[Any]]) -> Any:
        """``call`` on the conversation's process, or on the next while one is unavailable; the last error
        if none answers (the pipeline then waits the outage out)."""
        error: RasaUnavailable | None = None
        for client in self._in_turn(conversation_id):
            try:
                return await call(client)
            except RasaUnavailable as unavailable:
                error = unavailable
        assert error is not None
        raise error

    async def handle(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        return await self._first_answer(conversation_id, lambda rasa: rasa.handle(conversation_id, text, metadata))

    async def parse(self, text: str) -> Understanding:
        return await self._first_answer(text, lambda rasa: rasa.parse(text))

    async def pause(self, conversation_id: str) -> None:
        await self._first_answer(conversation_id, lambda rasa: rasa.pause(conversation_id))

    async def resume(self, conversation_id: str) -> None:
        await self._first_answer(conversation_id, lambda rasa: rasa.resume(conversation_id))

    async def is_ready(self) -> bool:
        """True when every process has its model loaded."""
        return all(await asyncio.gather(*(client.is_ready() for client in self.clients)))
