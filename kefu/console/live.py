"""The live console websocket: a board snapshot, then every change this console may see, and its presence.

Events come through a pub/sub subscription that survives Redis restarts (kefu/core/subscription.py): after it
subscribes again, the console gets a fresh board, so nothing it shows is stale.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import redis.asyncio as aioredis
from aiohttp import WSMsgType, web

from kefu.console import board
from kefu.console.auth import origin_ok, session_of
from kefu.console.presence import STATUSES, announce, leave
from kefu.console.state import HANDOFF
from kefu.console.users import User
from kefu.core import keys
from kefu.core.subscription import RESYNC, Subscriber, Subscription, keep_trying
from kefu.core.tasks import cancel_and_wait
from kefu.core.untrusted import parse_json
from kefu.handoff.manager import HandoffManager

log = logging.getLogger(__name__)

PRESENCE_BEAT_S = 30
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
SUBSCRIBE_WAIT_S = 10


async def socket(request: web.Request) -> web.StreamResponse:
    """Needs a session and a same-origin Origin header (a cross-origin socket gets 403)."""
    if not origin_ok(request, required=True):
        log.warning("console websocket: refused origin %s", request.headers.get("Origin"))
        raise web.HTTPForbidden(text="origin not allowed")
    session = await session_of(request)
    if session is None:
        raise web.HTTPUnauthorized(text="sign in")
    manager = request.app[HANDOFF]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    user = session.user
    events = Subscriber(manager.redis, channels=(keys.CONSOLE_EVENTS,), name=f"console-{user.name}")
    await events.start()
    # Subscribed before the board is read, so no change falls between (if Redis is down, the board follows
    # as soon as the subscription is back).
    await events.wait_live(SUBSCRIBE_WAIT_S)
    # Customers' messages of waiting tickets reach every agent's screen; of assigned ones, the holder's.
    held: set[str] = set()
    waiting: set[str] = set()
    status = {"value": "online"}

    async def send_board() -> None:
        snapshot = await board.board(manager, session)
        held.clear()
        held.update(item["ticket_id"] for item in snapshot.assigned if item["agent"] == user.name)
        waiting.clear()
        waiting.update(item["ticket_id"] for item in snapshot.queue)
        await ws.send_json(snapshot.to_dict())

    async def forward(subscription: Subscription) -> None:
        while True:
            raw = await subscription.get()
            if ws.closed:
                return
            if raw is RESYNC:
                await keep_trying(send_board, f"console board for {user.name}")
                continue
            data = json.loads(raw)
            item = data.get("item") or {}
            if data.get("type") == "queued":
                waiting.add(item.get("ticket_id"))
            elif data.get("type") in {"claimed", "finished"}:
                waiting.discard(item.get("ticket_id"))
                mine = data["type"] == "claimed" and item.get("agent") == user.name
                (held.add if mine else held.discard)(item.get("ticket_id"))
            if board.forwardable(data, session, held | waiting):
                outgoing = await board.for_this_console(data, session, manager)  # None: not for this console
                if outgoing is not None:
                    await ws.send_json(outgoing)

    async def beat() -> None:
        while True:
            await asyncio.sleep(PRESENCE_BEAT_S)
            try:
                await manager.set_presence(user.name, status["value"], user.role, user.team)
            except REDIS_DOWN as error:  # the next beat puts the agent back, e.g. after a Redis restart
                log.warning("console presence of %s not refreshed: %s", user.name, error)

    with events.listen(keys.CONSOLE_EVENTS) as subscription:
        try:
            await announce(manager, user, "online")
            await send_board()
        except REDIS_DOWN:
            await events.stop()
            raise
        tasks = [asyncio.create_task(forward(subscription)), asyncio.create_task(beat())]
        try:
            await _read_presence(ws, manager, user, status)
        finally:
            for task in tasks:
                with contextlib.suppress(*REDIS_DOWN):
                    await cancel_and_wait(task)
            await events.stop()
            with contextlib.suppress(*REDIS_DOWN):
                await leave(manager, user)
    return ws


async def _read_presence(ws: web.WebSocketResponse, manager: HandoffManager, user: User,
                         status: dict[str, str]) -> None:
    """The console's only frames: the agent's presence (online, away)."""
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            continue
        with contextlib.suppress(ValueError):
            data = parse_json(frame.data)
            if isinstance(data, dict) and data.get("type") == "presence" and data.get("status") in STATUSES:
                status["value"] = data["status"]
                await announce(manager, user, status["value"])
