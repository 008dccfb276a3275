"""One Redis pub/sub connection per process, shared by all its listeners, that comes back after a Redis restart.

Pub/sub delivers only to whoever is subscribed at that moment: what is published while the connection is down
is gone. So a subscriber never dies on a Redis error: it subscribes again with backoff, and then tells every
listener to catch up from the source of truth (``RESYNC``), e.g. a web-chat socket re-reads the transcript's
tail, the console re-reads the board. A listener whose queue overflows (a socket that does not read) gets the
same ``RESYNC`` instead of an unbounded backlog.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Final

import redis.asyncio as aioredis

from kefu.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
# Reads wake up this often even when nothing is published: the health check (PING) runs between reads.
READ_TIMEOUT_S = 5.0


class _Resync:
    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = _Resync()
"""Handed to a listener in place of messages it may have missed: catch up from the stored state."""

Item = str | _Resync


class Subscription:
    """One listener's messages on one channel, in order; ``RESYNC`` where some may have been lost."""

    def __init__(self, channel: str, max_queued: int) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._max_queued = max_queued

    def put(self, item: Item) -> None:
        """Never blocks the shared reader: a listener too far behind loses its backlog and catches up instead."""
        if self._queue.qsize() >= self._max_queued:
            while not self._queue.empty():
                self._queue.get_nowait()
            item = RESYNC
        self._queue.put_nowait(item)

    async def get(self) -> Item:
        return await self._queue.get()


class Subscriber:
    """A fixed set of channels and patterns, subscribed once per process; listeners pick messages by channel."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        channels: tuple[str, ...] = (),
        patterns: tuple[str, ...] = (),
        name: str = "subscriber",
        backoff_s: tuple[float, float] = (0.1, 5.0),
        max_queued: int = 256,
    ) -> None:
        if not channels and not patterns:
            raise ValueError("a subscriber needs at least one channel or pattern")
        self.redis = redis
        self.channels = channels
        self.patterns = patterns
        self.name = name
        self.backoff_s = backoff_s
        self.max_queued = max_queued
        # How many times the subscription has been (re)established: 1 after the first, +1 per recovery.
        self.sessions = 0
        self._listeners: dict[str, set[Subscription]] = defaultdict(set)
        self._live = asyncio.Event()
        self._was_up = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        """Subscribed on Redis right now (messages published now reach the listeners)."""
        return self._live.is_set()

    async def wait_live(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._live.wait(), timeout_s)
        return self.live

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"kefu-{self.name}")

    async def stop(self) -> None:
        """End the reader for sure (kefu/core/tasks.py: redis-py can lose a cancellation); it also stops at
        its next message or read timeout."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    @contextlib.contextmanager
    def listen(self, channel: str) -> Iterator[Subscription]:
        """Messages on ``channel`` from now on. A listener added while the subscriber is down gets ``RESYNC``
        once it is back, so reading the stored state right after ``listen`` never misses anything."""
        subscription = Subscription(channel, self.max_queued)
        self._listeners[channel].add(subscription)
        try:
            yield subscription
        finally:
            listeners = self._listeners.get(channel)
            if listeners is not None:
                listeners.discard(subscription)
                if not listeners:
                    del self._listeners[channel]

    @property
    def listener_count(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    async def _run(self) -> None:
        delay = self.backoff_s[0]
        while not self._stopping:
            try:
                await self._session()
            except REDIS_DOWN as error:
                log.warning("%s: Redis pub/sub lost (%s); subscribing again", self.name, error)
            except Exception:  # a bug must not silence every socket of the process for good
                log.exception("%s: pub/sub reader failed; subscribing again", self.name)
            if self._was_up:  # it worked until now: try again at once, back off only while Redis stays away
                delay = self.backoff_s[0]
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff_s[1])

    async def _session(self) -> None:
        """Subscribe, tell every listener to catch up, then dispatch until the connection fails."""
        self._was_up = False
        pubsub = self.redis.pubsub()
        try:
            if self.channels:
                await pubsub.subscribe(*self.channels)
            if self.patterns:
                await pubsub.psubscribe(*self.patterns)
            await self._confirmed(pubsub)
            if self._stopping:
                return
            self.sessions += 1
            self._was_up = True
            self._live.set()
            self._resync_all()
            if self.sessions > 1:
                log.info("%s: subscribed again (%d listeners catching up)", self.name, self.listener_count)
            while not self._stopping:
                message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
                if message is not None:
                    self._dispatch(message)
        finally:
            self._live.clear()
            with contextlib.suppress(*REDIS_DOWN, OSError, RuntimeError):
                await pubsub.aclose()

    async def _confirmed(self, pubsub: aioredis.client.PubSub) -> None:
        """Wait for Redis to confirm every subscription: only then is nothing published lost."""
        expected = len(self.channels) + len(self.patterns)
        deadline = asyncio.get_running_loop().time() + 10
        while expected and not self._stopping:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise aioredis.TimeoutError("subscriptions not confirmed within 10 s")
            message = await pubsub.get_message(timeout=remaining)
            if message is None:
                continue
            if message["type"] in {"subscribe", "psubscribe"}:
                expected -= 1
            else:
                self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind in {"subscribe", "psubscribe"}:
            # redis-py re-subscribed by itself after reconnecting: messages in between are lost.
            self._resync_all()
            return
        if kind not in {"message", "pmessage"}:
            return
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        data = message["data"]
        data = data.decode() if isinstance(data, bytes) else data
        for subscription in tuple(self._listeners.get(channel, ())):
            subscription.put(data)

    def _resync_all(self) -> None:
        for listeners in tuple(self._listeners.values()):
            for subscription in tuple(listeners):
                subscription.put(RESYNC)


async def keep_trying(step: Callable[[], Awaitable[None]], what: str, backoff_s: tuple[float, float] = (0.2, 5.0)
                      ) -> None:
    """Run ``step`` until it gets through a Redis outage: a catch-up must not be lost to a second blip."""
    delay = backoff_s[0]
    while True:
        try:
            await step()
            return
        except REDIS_DOWN as error:
            log.warning("%s failed (%s); trying again in %.1f s", what, error, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, backoff_s[1])
