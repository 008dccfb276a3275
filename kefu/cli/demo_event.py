"""``python -m kefu demo-event <order> <type>``: the demo shop moves an order on and tells its customer.

The event goes through the same code path as the shop's webhook once verified (kefu/commitments/order_updates.py),
so a running ``make run`` shows it in the customer's web chat (or WeChat, Telegram) at once.
"""
from __future__ import annotations

import asyncio
import json
import sys

from kefu.app.services import Services
from kefu.cli.redis_check import redis_missing
from kefu.commitments.events import EventRefused, event_from_dict
from kefu.ops.runtime import settings_from_env
from kefu.orders.base import OrderNotFound
from kefu.orders.demo import demo_event


async def _emit(order_id: str, kind: str) -> dict:
    settings = settings_from_env()
    async with Services.build(settings).running() as services:
        raw = await demo_event(services.redis, order_id, kind)
        status = await services.commitments.orders.handle(event_from_dict(raw))
        return {"event": raw, "status": status}


def emit(order_id: str, kind: str) -> int:
    settings = settings_from_env()
    if not settings.demo:
        print("not in demo mode: demo events only move demo orders (KEFU_DEMO=1)", file=sys.stderr)
        return 2
    if redis_missing(settings.redis_url):
        return 2
    try:
        print(json.dumps(asyncio.run(_emit(order_id, kind)), ensure_ascii=False))
    except OrderNotFound:
        print(f"no demo order {order_id} (python -m kefu seed-demo loads them)", file=sys.stderr)
        return 2
    except (EventRefused, ValueError) as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0
