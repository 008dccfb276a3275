"""Several Rasa processes behind one client: a turn goes to its conversation's process unless another is less busy.

One Rasa process answers on one core (its NLU, policies and tracker store run on one event loop), so on a
machine with more cores ``make run`` starts ``KEFU_RASA_PROCESSES`` of them (kefu/config/dialogue.py). They
share the tracker and lock stores in Redis, so any of them can answer any conversation, and the pipeline sends
one conversation's turns one after another (never two at once to two processes). Each conversation has its own
process, which answers its turns while it has no more turns in flight (from this client) than another; when it
has, the least busy one answers: a turn does not wait behind another conversation's on one core while the other
core is idle (by hash alone, 10 conversations on 2 processes split 6/4 or worse, and the busier one set the tail).
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
        self._in_flight = dict.fromkeys(self.clients, 0)

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

    def _least_busy(self, conversation_id: str) -> tuple[RasaClient, ...]:
        """The processes by turns in flight, fewest first; among equals the conversation's own order."""
        return tuple(sorted(self._in_turn(conversation_id), key=self._in_flight.__getitem__))

    async def _first_answer(self, conversation_id: str, call: Callable[[RasaClient], Awaitable[Any]],
                            order: Callable[[str], tuple[RasaClient, ...]] | None = None) -> Any:
        """``call`` on the first process of ``order`` (the conversation's own by default), or on the next while
        one is unavailable; the last error if none answers (the pipeline then waits the outage out)."""
        error: RasaUnavailable | None = None
        for client in (order or self._in_turn)(conversation_id):
            self._in_flight[client] += 1
            try:
                return await call(client)
            except RasaUnavailable as unavailable:
                error = unavailable
            finally:
                self._in_flight[client] -= 1
        assert error is not None
        raise error

    async def handle(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        return await self._first_answer(conversation_id, lambda rasa: rasa.handle(conversation_id, text, metadata),
                                        self._least_busy)

    async def parse(self, text: str) -> Understanding:
        return await self._first_answer(text, lambda rasa: rasa.parse(text), self._least_busy)

    async def pause(self, conversation_id: str) -> None:
        await self._first_answer(conversation_id, lambda rasa: rasa.pause(conversation_id))

    async def resume(self, conversation_id: str) -> None:
        await self._first_answer(conversation_id, lambda rasa: rasa.resume(conversation_id))

    async def is_ready(self) -> bool:
        """True when every process has its model loaded."""
        return all(await asyncio.gather(*(client.is_ready() for client in self.clients)))
