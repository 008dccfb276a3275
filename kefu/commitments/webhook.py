"""``POST /api/order-events``: the shop's signed order events (the contract is in events.py).

Checked in this order, each refusal a 4xx with ``{"error", "message"}`` and nothing sent: the secret is
configured (else 503), the body is small enough (413), it is JSON by its content type (415), the timestamp is
within the window and the signature matches (401), this exact signed request was not received before (409
``replayed``), the event is valid (400 ``bad_json``, 422 ``invalid_event`` / ``unknown_type``), its order
exists (404 ``unknown_order``). The order backend down is a 503 the shop should retry.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from aiohttp import web

from kefu.commitments.events import EventRefused, parse_event
from kefu.commitments.order_updates import OrderUpdates
from kefu.commitments.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRefused, verify
from kefu.config.commitments import CommitmentSettings
from kefu.core import keys
from kefu.orders.base import BackendUnavailable, OrderNotFound

log = logging.getLogger(__name__)

PATH = "/api/order-events"
MAX_BODY_BYTES = 64 * 1024
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)


def _refuse(status: int, error: str, message: str) -> web.Response:
    log.warning("order events: refused (%s %s): %s", status, error, message)
    return web.json_response({"error": error, "message": message}, status=status)


class OrderEventsWebhook:
    def __init__(self, redis: aioredis.Redis, updates: OrderUpdates, settings: CommitmentSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.updates = updates
        self.settings = settings
        self.clock = clock

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        if not self.settings.order_events_secret:
            return _refuse(503, "not_configured", "set KEFU_ORDER_EVENTS_SECRET to accept order events")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _refuse(413, "too_large", f"an event is at most {MAX_BODY_BYTES} bytes")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, "too_large", f"an event is at most {MAX_BODY_BYTES} bytes")
        if request.content_type != "application/json":
            return _refuse(415, "bad_content_type", "send the event as application/json")
        try:
            signature = verify(self.settings.order_events_secret, request.headers.get(TIMESTAMP_HEADER),
                               request.headers.get(SIGNATURE_HEADER), body, self.clock(),
                               self.settings.order_events_window_s)
        except SignatureRefused as refused:
            return _refuse(401, refused.code, str(refused))
        try:
            return await self._take(signature, body)
        except REDIS_DOWN as error:
            log.error("order events: Redis unavailable: %s", error)
            return _refuse(503, "unavailable", "try again shortly")

    async def _take(self, signature: str, body: bytes) -> web.Response:
        replay_key = keys.order_event_request(signature)
        if not await self.redis.set(replay_key, "1", nx=True, ex=2 * self.settings.order_events_window_s):
            return _refuse(409, "replayed", "this exact request was received before; sign each delivery afresh")
        try:
            event = parse_event(body)
        except EventRefused as refused:
            return _refuse(refused.status, refused.code, str(refused))
        try:
            status = await self.updates.handle(event)
        except OrderNotFound:
            return _refuse(404, "unknown_order", f"no order {event.order_id}")
        except BackendUnavailable as error:
            await self.redis.delete(replay_key)  # the same request may come again
            log.warning("order events: order backend unavailable for %s: %s", event.id, error)
            return _refuse(503, "orders_unavailable", "the order system is unreachable; try again shortly")
        log.info("order event %s (%s, %s): %s", event.id, event.type, event.order_id, status)
        return web.json_response({"event_id": event.id, "status": status})
