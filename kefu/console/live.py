"""The live console websocket: a board snapshot, then every change this console may see, and its presence."""
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

log = logging.getLogger(__name__)

PRESENCE_BEAT_S = 30
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)


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
    pubsub = await manager.subscribe()
    user = session.user
    await announce(manager, user, "online")
    snapshot = await board.board(manager, session)
    held = {item["ticket_id"] for item in snapshot.assigned if item["agent"] == user.name}
    # Customers' messages of waiting tickets reach every agent's screen; of assigned ones, the holder's.
    waiting = {item["ticket_id"] for item in snapshot.queue}
    await ws.send_json(snapshot.to_dict())
    status = {"value": "online"}

    async def forward() -> None:
        async for event in pubsub.listen():
            if event.get("type") != "message" or ws.closed:
                continue
            data = json.loads(event["data"])
            item = data.get("item") or {}
            if data.get("type") == "queued":
                waiting.add(item.get("ticket_id"))
            elif data.get("type") in {"claimed", "finished"}:
                waiting.discard(item.get("ticket_id"))
                mine = data["type"] == "claimed" and item.get("agent") == user.name
                (held.add if mine else held.discard)(item.get("ticket_id"))
            if board.forwardable(data, session, held | waiting):
                await ws.send_json(await board.for_this_console(data, session, manager))

    async def beat() -> None:
        while True:
            await asyncio.sleep(PRESENCE_BEAT_S)
            await manager.set_presence(user.name, status["value"], user.role, user.team)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(beat())]
    try:
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            with contextlib.suppress(ValueError):
                data = json.loads(frame.data)
                if isinstance(data, dict) and data.get("type") == "presence" and data.get("status") in STATUSES:
                    status["value"] = data["status"]
                    await announce(manager, user, status["value"])
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, *REDIS_DOWN):
                await task
        with contextlib.suppress(*REDIS_DOWN):
            await leave(manager, user)
            await pubsub.aclose()
    return ws
