"""The console's HTTP API, pages and live websocket; every route but sign-in needs a session.

Security at the edge: session cookie (HttpOnly, SameSite=Strict, Secure unless configured off for plain-http
development), a CSRF token echoed in ``X-CSRF-Token`` on every POST, the Origin checked on POSTs and on the
websocket (a cross-origin socket gets 403).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import WSMsgType, web

from kefu.app import appkeys
from kefu.console.sessions import COOKIE, CSRF_HEADER, SESSION_TTL_S, Session, SessionStore
from kefu.console.users import UserStore
from kefu.handoff.manager import RESOLUTIONS, HandoffError, HandoffManager
from kefu.handoff.state import EVENTS_CHANNEL, ClaimRefused, Handoff
from kefu.handoff.teams import TEAM_NAME, online_teams, routed_to

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
USERS = web.AppKey("console_users", UserStore)
SESSIONS = web.AppKey("console_sessions", SessionStore)
SESSION = web.RequestKey("console_session", Session)  # set by the auth check
PRESENCE_BEAT_S = 30
MAX_TEXT = 4000
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup_console(app: web.Application) -> None:
    redis = app[appkeys.REDIS]
    app[USERS] = UserStore(redis)
    app[SESSIONS] = SessionStore(redis)
    app.router.add_routes([
        web.get("/console", page),
        web.get("/console/", page),
        web.get("/console/login", login_page),
        web.post("/console/login", login),
        web.post("/console/logout", signed_in(logout)),
        web.get("/console/static/{name}", static),
        web.get("/console/api/me", signed_in(me)),
        web.get("/console/api/queue", signed_in(queue)),
        web.get("/console/api/directory", signed_in(directory)),
        web.get("/console/api/tickets/{ticket}", signed_in(ticket)),
        web.post("/console/api/presence", signed_in(presence)),
        web.post("/console/api/tickets/{ticket}/{action}", signed_in(act)),
        web.get("/console/ws", socket),
    ])


def console_origins(app: web.Application) -> set[str]:
    settings = app[appkeys.SETTINGS]
    return {settings.public_origin, f"http://localhost:{settings.port}", *settings.allowed_origins}


def _origin_ok(request: web.Request, required: bool) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return not required
    return origin.rstrip("/") in console_origins(request.app)


async def _session(request: web.Request) -> Session | None:
    return await request.app[SESSIONS].get(request.cookies.get(COOKIE))


def signed_in(handler: Handler) -> Handler:
    """Refuse without a session (401); POSTs also need a same-origin request and the session's CSRF token."""
    async def checked(request: web.Request) -> web.StreamResponse:
        session = await _session(request)
        if session is None:
            raise web.HTTPUnauthorized(text=json.dumps({"error": "sign_in"}), content_type="application/json")
        if request.method == "POST" and (
            not _origin_ok(request, required=False) or not session.csrf_ok(request.headers.get(CSRF_HEADER))
        ):
            raise web.HTTPForbidden(text=json.dumps({"error": "csrf"}), content_type="application/json")
        request[SESSION] = session
        return await handler(request)
    return checked


def _html(name: str) -> web.Response:
    response = web.Response(text=(STATIC_DIR / name).read_text(encoding="utf-8"), content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


async def page(request: web.Request) -> web.StreamResponse:
    if await _session(request) is None:
        raise web.HTTPFound("/console/login")
    return _html("console.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    return _html("login.html")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in {"console.js", "console.css", "login.js"}:
        raise web.HTTPNotFound()
    response = web.FileResponse(STATIC_DIR / name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """JSON {"username", "password"}; a same-origin request only (no login CSRF)."""
    if not _origin_ok(request, required=True):
        raise web.HTTPForbidden(text="origin not allowed")
    try:
        body = await request.json()
        name, password = str(body["username"]), str(body["password"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text=json.dumps({"error": "bad_request"}), content_type="application/json") from None
    user = await request.app[USERS].authenticate(name.strip().lower(), password)
    if user is None:
        log.warning("console: failed sign-in for %r", name[:40])
        raise web.HTTPUnauthorized(text=json.dumps({"error": "bad_credentials"}), content_type="application/json")
    session = await request.app[SESSIONS].create(user)
    response = web.json_response({"ok": True, "user": user.name, "role": user.role})
    response.set_cookie(
        COOKIE, session.token, httponly=True, samesite="Strict", path="/console", max_age=SESSION_TTL_S,
        secure=request.app[appkeys.SETTINGS].handoff.secure_cookie,
    )
    log.info("console: %s signed in (%s)", user.name, user.role)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await request.app[SESSIONS].drop(request[SESSION].token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/console")
    return response


async def me(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    return web.json_response({"user": session.user.name, "display_name": session.user.display_name,
                              "role": session.user.role, "team": session.user.team, "csrf": session.csrf,
                              "resolutions": list(RESOLUTIONS)})


async def directory(request: web.Request) -> web.StreamResponse:
    """Who and which teams a conversation can be transferred to."""
    users: UserStore = request.app[USERS]
    agents = [{"name": u.name, "display_name": u.display_name, "role": u.role, "team": u.team}
              for u in await users.everyone()]
    return web.json_response({"agents": agents, "teams": await users.teams()})


def _visible(handoff: Handoff, session: Session, online: set[str]) -> bool:
    """Supervisors see everything; agents what they hold and the waiting items routed to them (teams.py)."""
    user = session.user
    if user.supervisor or handoff.agent == user.name:
        return True
    return handoff.status == "waiting" and routed_to(handoff.team, user.team, online)


async def _online(manager: HandoffManager) -> set[str]:
    return online_teams(await manager.store.presence())


async def _board(manager: HandoffManager, session: Session) -> dict[str, Any]:
    presence = await manager.store.presence()
    online = online_teams(presence)
    active = [h for h in await manager.store.active() if _visible(h, session, online)]
    return {
        "queue": [h.summary() for h in active if h.status == "waiting"],
        "assigned": [h.summary() for h in active if h.status == "assigned"],
        "presence": presence,
    }


async def queue(request: web.Request) -> web.StreamResponse:
    return web.json_response(await _board(request.app[appkeys.HANDOFF], request[SESSION]))


async def ticket(request: web.Request) -> web.StreamResponse:
    manager = request.app[appkeys.HANDOFF]
    handoff = await manager.store.get(request.match_info["ticket"])
    if handoff is None or not (_visible(handoff, request[SESSION], await _online(manager)) or not handoff.active):
        raise web.HTTPNotFound(text=json.dumps({"error": "not_found"}), content_type="application/json")
    return web.json_response(await manager.packet(handoff.ticket_id))


async def presence(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    body = await _body(request)
    status = body.get("status")
    if status not in ("online", "away"):
        raise web.HTTPBadRequest(text=json.dumps({"error": "status"}), content_type="application/json")
    manager = request.app[appkeys.HANDOFF]
    await manager.store.set_presence(session.user.name, status, session.user.role, session.user.team)
    await manager.store.publish({"type": "presence", "agent": session.user.name, "status": status})
    return web.json_response({"ok": True})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "bad_json"}), content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "bad_request"}), content_type="application/json")
    return body


def _text(body: dict[str, Any], field: str = "text") -> str:
    text = body.get(field)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{field}: 1-{MAX_TEXT} characters"}),
                                 content_type="application/json")
    return text.strip()


async def act(request: web.Request) -> web.StreamResponse:
    """claim | reply | note | transfer ({"to": agent} or {"team": team}) | close | handback |
    followup ({"due_at": epoch seconds, "what": text}) | followup_done on one ticket."""
    session: Session = request[SESSION]
    manager: HandoffManager = request.app[appkeys.HANDOFF]
    ticket_id, action = request.match_info["ticket"], request.match_info["action"]
    user, supervisor = session.user, session.user.supervisor
    body = await _body(request) if request.can_read_body else {}
    try:
        if action == "claim":
            await _routed_here(manager, ticket_id, session)
            result: Any = (await manager.claim(ticket_id, user.name, user.display_name)).summary()
        elif action == "reply":
            result = (await manager.reply(ticket_id, user.name, _text(body), supervisor)).to_dict()
        elif action == "note":
            result = await manager.note(ticket_id, user.name, _text(body))
        elif action == "transfer" and body.get("team") is not None:
            team = str(body["team"])
            if not TEAM_NAME.match(team) or team not in await request.app[USERS].teams():
                raise HandoffError("no such team")
            result = (await manager.transfer_to_team(ticket_id, user.name, team, supervisor)).summary()
        elif action == "transfer":
            target = await request.app[USERS].get(str(body.get("to") or ""))
            if target is None:
                raise HandoffError("no such agent")
            result = (await manager.transfer(ticket_id, user.name, target.name, supervisor)).summary()
        elif action == "close":
            result = (await manager.close(ticket_id, user.name, str(body.get("resolution") or ""),
                                          supervisor)).summary()
        elif action == "handback":
            result = (await manager.hand_back(ticket_id, user.name, supervisor)).summary()
        elif action == "followup":
            result = (await manager.promise_followup(ticket_id, user.name, _due_at(body), _text(body, "what"))
                      ).to_dict()
        elif action == "followup_done":
            result = await manager.followup_kept(ticket_id, user.name)
        else:
            raise web.HTTPNotFound()
    except ClaimRefused:
        return web.json_response({"error": "taken", "ticket": ticket_id}, status=409)
    except HandoffError as error:
        return web.json_response({"error": str(error)}, status=409)
    return web.json_response({"ok": True, "result": result})


def _due_at(body: dict[str, Any]) -> float:
    due = body.get("due_at")
    if isinstance(due, bool) or not isinstance(due, int | float) or not 0 < due < 2**34:
        raise web.HTTPBadRequest(text=json.dumps({"error": "due_at: epoch seconds"}), content_type="application/json")
    return float(due)


async def _routed_here(manager: HandoffManager, ticket_id: str, session: Session) -> None:
    """A team's waiting item is only claimable by its members while one of them is online (teams.py)."""
    handoff = await manager.store.get(ticket_id)
    if handoff is None or session.user.supervisor:
        return
    if handoff.status == "waiting" and not routed_to(handoff.team, session.user.team, await _online(manager)):
        raise web.HTTPConflict(text=json.dumps({"error": "team", "team": handoff.team, "ticket": ticket_id}),
                               content_type="application/json")


def _forwardable(event: dict[str, Any], session: Session, held: set[str]) -> bool:
    if event.get("type") in {"message", "note"}:
        return session.user.supervisor or event.get("ticket") in held
    return True


async def _for_this_console(event: dict[str, Any], session: Session, manager: HandoffManager) -> dict[str, Any]:
    """A queued item routed to another team (while one of its members is online) leaves this board instead."""
    item = event.get("item") or {}
    if event.get("type") != "queued" or session.user.supervisor or not item.get("team"):
        return event
    if routed_to(item["team"], session.user.team, await _online(manager)):
        return event
    return {"type": "routed", "ticket_id": item.get("ticket_id"), "team": item["team"]}


async def socket(request: web.Request) -> web.StreamResponse:
    """Live console: a board snapshot, then every change. Needs a session and a same-origin Origin header."""
    if not _origin_ok(request, required=True):
        log.warning("console websocket: refused origin %s", request.headers.get("Origin"))
        raise web.HTTPForbidden(text="origin not allowed")
    session = await _session(request)
    if session is None:
        raise web.HTTPUnauthorized(text="sign in")
    manager: HandoffManager = request.app[appkeys.HANDOFF]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    pubsub = manager.redis.pubsub()
    user = session.user
    await pubsub.subscribe(EVENTS_CHANNEL)
    await manager.store.set_presence(user.name, "online", user.role, user.team)
    await manager.store.publish({"type": "presence", "agent": user.name, "status": "online"})
    board = await _board(manager, session)
    held = {item["ticket_id"] for item in board["assigned"] if item["agent"] == user.name}
    # Customers' messages of waiting tickets reach every agent's screen; of assigned ones, the holder's.
    waiting = {item["ticket_id"] for item in board["queue"]}
    await ws.send_json({"type": "board", "me": {"user": user.name, "role": user.role}} | board)
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
            if _forwardable(data, session, held | waiting):
                await ws.send_json(await _for_this_console(data, session, manager))

    async def beat() -> None:
        while True:
            await asyncio.sleep(PRESENCE_BEAT_S)
            await manager.store.set_presence(user.name, status["value"], user.role, user.team)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(beat())]
    try:
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            with contextlib.suppress(ValueError):
                data = json.loads(frame.data)
                if isinstance(data, dict) and data.get("type") == "presence" and data.get("status") in ("online", "away"):
                    status["value"] = data["status"]
                    await manager.store.set_presence(user.name, status["value"], user.role, user.team)
                    await manager.store.publish({"type": "presence", "agent": user.name, "status": status["value"]})
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, *REDIS_DOWN):
                await task
        with contextlib.suppress(*REDIS_DOWN):
            await manager.store.drop_presence(user.name)
            await manager.store.publish({"type": "presence", "agent": user.name, "status": "offline"})
            await pubsub.aclose()
    return ws
