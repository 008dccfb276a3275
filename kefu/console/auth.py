"""Who may use the console: sign-in and sign-out, the Origin rule, and the session (plus CSRF) check on routes.

Session cookie HttpOnly, SameSite=Strict, Secure unless configured off for plain-http development; every POST
echoes the session's CSRF token in ``X-CSRF-Token`` and comes from an allowed Origin. Failed sign-ins are
limited per account and per client address (``users.SignInLimits``); a locked attempt gets 429.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from kefu.console.errors import json_error
from kefu.console.sessions import COOKIE, CSRF_HEADER, SESSION_TTL_S, Session
from kefu.console.state import SESSION, SESSIONS, SETTINGS, USERS
from kefu.core.untrusted import parse_json

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_origins(app: web.Application) -> set[str]:
    settings = app[SETTINGS]
    return {settings.public_origin, f"http://localhost:{settings.port}", *settings.allowed_origins}


def origin_ok(request: web.Request, required: bool) -> bool:
    """An allowed Origin; a request without one passes only where it is not ``required`` (same-origin GETs)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return not required
    return origin.rstrip("/") in console_origins(request.app)


async def session_of(request: web.Request) -> Session | None:
    return await request.app[SESSIONS].get(request.cookies.get(COOKIE))


def signed_in(handler: Handler) -> Handler:
    """Refuse without a session (401); POSTs also need a same-origin request and the session's CSRF token."""
    async def checked(request: web.Request) -> web.StreamResponse:
        session = await session_of(request)
        if session is None:
            raise json_error(web.HTTPUnauthorized, "sign_in")
        if request.method == "POST" and (
            not origin_ok(request, required=False) or not session.csrf_ok(request.headers.get(CSRF_HEADER))
        ):
            raise json_error(web.HTTPForbidden, "csrf")
        request[SESSION] = session
        return await handler(request)
    return checked


def client_address(request: web.Request) -> str:
    """The peer's address, which the per-address limit counts.

    Behind a reverse proxy this is the proxy's address, so every client shares one counter: the proxy must be
    trusted and should limit by the real client itself. ``X-Forwarded-For`` is not read (anyone can forge it).
    """
    return request.remote or "unknown"


def locked(retry_after: int) -> web.HTTPError:
    refusal = json_error(web.HTTPTooManyRequests, "locked", retry_after=retry_after)
    refusal.headers["Retry-After"] = str(retry_after)
    return refusal


async def login(request: web.Request) -> web.StreamResponse:
    """JSON {"username", "password"}; a same-origin request only (no login CSRF).

    The attempt is counted before the password is checked; while the account or the address is locked even the
    right password gets 429, so a guesser learns nothing from it.
    """
    if not origin_ok(request, required=True):
        raise web.HTTPForbidden(text="origin not allowed")
    try:
        body = parse_json(await request.read())
        name, password = str(body["username"]).strip().lower(), str(body["password"])
    except (ValueError, KeyError, TypeError):
        raise json_error(web.HTTPBadRequest, "bad_request") from None
    users, address = request.app[USERS], client_address(request)
    retry_after = await users.limits.admit(name, address)
    if retry_after:
        log.warning("console: sign-in for %r from %s refused, locked for %ds", name[:40], address, retry_after)
        raise locked(retry_after)
    user = await users.authenticate(name, password)
    if user is None:
        log.warning("console: failed sign-in for %r from %s", name[:40], address)
        raise json_error(web.HTTPUnauthorized, "bad_credentials")
    await users.limits.succeeded(name, address)
    session = await request.app[SESSIONS].create(user)
    response = web.json_response({"ok": True, "user": user.name, "role": user.role})
    response.set_cookie(
        COOKIE, session.token, httponly=True, samesite="Strict", path="/console", max_age=SESSION_TTL_S,
        secure=request.app[SETTINGS].handoff.secure_cookie,
    )
    log.info("console: %s signed in (%s)", user.name, user.role)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await request.app[SESSIONS].drop(request[SESSION].token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/console")
    return response
