"""WeChat's 5-second deadline: hand the pipeline's first reply to the webhook request still waiting for it.

The webhook registers a waiter (``kefu:wx:wait:<conversation>`` -> ``<process>:<request>``) in the same script
that queues the message (kefu/core/inbox.py), so the acknowledgement stays one round trip. Whichever process's pipeline answers claims the waiter atomically (GETDEL) and publishes the reply
to that process, whose single listener resolves the request's future. Only one reply can claim a waiter; an
unclaimed waiter expires, and a reply whose request already gave up is sent through the API instead.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.inbox import Waiting
from kefu.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

WAIT_S = 4.0
CLAIM_GRACE_S = 0.5
READY_WAIT_S = 2.0
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)

# Delete the waiter only if it is still ours (not claimed by a reply meanwhile).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Fallback = Callable[[str, str, str], Awaitable[None]]


async def offer(redis: aioredis.Redis, conversation_id: str, message_id: str, text: str) -> bool:
    """Give a reply to the webhook request waiting for it, in whichever process; False: deliver it another way."""
    token = await redis.getdel(keys.wechat_waiter(conversation_id))
    if not token:
        return False
    process = token.split(":", 1)[0]
    payload = json.dumps({"token": token, "conversation_id": conversation_id, "message_id": message_id,
                          "text": text}, ensure_ascii=False)
    return bool(await redis.publish(keys.wechat_passive_channel(process), payload))


@dataclass
class Waiter:
    conversation_id: str
    token: str
    future: asyncio.Future[str]


class PassiveReplies:
    """The receiving side: matches a reply produced anywhere (``offer``) to the request waiting in this process."""

    def __init__(self, redis: aioredis.Redis, fallback: Fallback, wait_s: float = WAIT_S) -> None:
        self.redis = redis
        self.fallback = fallback
        self.wait_s = wait_s
        self.process = uuid.uuid4().hex
        self._waiting: dict[str, Waiter] = {}
        self._release = redis.register_script(_RELEASE)
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start listening, and wait (a little) until subscribed: a request taken in before that cannot be given its
        reply passively (the gateway's first requests after a start would all be answered through the API)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="kefu-wechat-passive")
            with contextlib.suppress(TimeoutError):  # Redis down: the listener keeps trying, requests go on
                await asyncio.wait_for(self._ready.wait(), READY_WAIT_S)

    async def stop(self) -> None:
        if self._listener is not None:
            await cancel_and_wait(self._listener)  # redis-py can swallow one cancel (kefu/core/tasks.py)
            self._listener = None

    def expect(self, conversation_id: str) -> Waiter | None:
        """A waiter for the next reply to this conversation, to be registered with the message (``waiting``).

        None while the listener is not up, or when passive replies are switched off (``wait_s`` 0).
        """
        if self.wait_s <= 0 or not self._ready.is_set():
            return None
        token = f"{self.process}:{uuid.uuid4().hex}"
        waiter = Waiter(conversation_id, token, asyncio.get_running_loop().create_future())
        self._waiting[token] = waiter
        return waiter

    def waiting(self, waiter: Waiter | None) -> Waiting | None:
        """What the inbox stores so that whoever answers finds this waiter."""
        if waiter is None:
            return None
        return Waiting(keys.wechat_waiter(waiter.conversation_id), waiter.token, int((self.wait_s + CLAIM_GRACE_S) * 1000))

    async def wait(self, waiter: Waiter) -> str | None:
        """The reply text if it came in time; None means answer ``success`` and let the API deliver it."""
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter.future), self.wait_s)
            if not waiter.future.done():
                with contextlib.suppress(*REDIS_DOWN):
                    if not await self._release(keys=[keys.wechat_waiter(waiter.conversation_id)], args=[waiter.token]):
                        # A reply claimed the waiter just now and is on its way.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.shield(waiter.future), CLAIM_GRACE_S)
        finally:
            self._waiting.pop(waiter.token, None)
        # Once popped, a late reply goes to the fallback: nothing is lost or sent twice.
        return waiter.future.result() if waiter.future.done() else None

    def forget(self, waiter: Waiter) -> None:
        """Drop a waiter that was never registered (the message was a retry, or Redis failed)."""
        self._waiting.pop(waiter.token, None)

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(keys.wechat_passive_channel(self.process))
                self._ready.set()
                async for event in pubsub.listen():
                    if event.get("type") == "message":
                        await self._take(json.loads(event["data"]))
            except REDIS_DOWN as error:
                self._ready.clear()
                log.warning("wechat passive replies: Redis unavailable (%s); retrying", error)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(*REDIS_DOWN):
                    await pubsub.aclose()

    async def _take(self, reply: dict[str, str]) -> None:
        waiter = self._waiting.get(reply["token"])
        if waiter is not None and not waiter.future.done():
            waiter.future.set_result(reply["text"])
            return
        # The request gave up between the claim and now: the customer still gets the reply.
        await self.fallback(reply["conversation_id"], reply["message_id"], reply["text"])
