"""Where orders live: a demo store in Redis or a shop's REST API, behind one OrderBackend interface."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.config.orders import ActionSettings
from kefu.orders.base import BackendUnavailable, Order, OrderBackend, OrderNotFound, ShopRefused

__all__ = ["BackendUnavailable", "Order", "OrderBackend", "OrderNotFound", "ShopRefused", "create_backend"]


def create_backend(settings: ActionSettings, redis: aioredis.Redis) -> OrderBackend:
    """The backend KEFU_ORDER_BACKEND names; imported lazily so the demo never needs aiohttp and vice versa."""
    if settings.order_backend == "http":
        from kefu.orders.http import HttpOrderBackend

        return HttpOrderBackend(settings.order_api_url, settings.order_api_token, settings.order_api_timeout_s)
    from kefu.orders.demo import DemoOrderBackend

    return DemoOrderBackend(redis)
