"""The console's routes in one table: pages, sign-in, the JSON API and the live websocket.

Every route but the pages and sign-in needs a session (kefu/console/auth.py); the gateway calls
``setup_console`` and later sets ``state.HANDOFF`` to its handoff manager.
"""
from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp import web

from kefu.config.settings import Settings
from kefu.console import admin, api, auth, dashboard, deadletters, inbox, links, pages, qa
from kefu.console.auth import signed_in
from kefu.console.live import socket
from kefu.console.sessions import SessionStore
from kefu.console.state import SESSIONS, SETTINGS, USERS
from kefu.console.users import UserStore
from kefu.console.verbs import act


def setup_console(app: web.Application, settings: Settings, redis: aioredis.Redis) -> None:
    app[SETTINGS] = settings
    app[USERS] = UserStore(redis)
    app[SESSIONS] = SessionStore(redis)
    app.router.add_routes([
        web.get("/console", pages.page),
        web.get("/console/", pages.page),
        web.get("/console/login", pages.login_page),
        web.post("/console/login", auth.login),
        web.post("/console/logout", signed_in(auth.logout)),
        web.get("/console/static/{name}", pages.static),
        web.get("/console/api/me", signed_in(api.me)),
        web.get("/console/api/queue", signed_in(api.queue)),
        web.get("/console/api/inbox", signed_in(inbox.inbox)),
        web.get("/console/api/i18n", signed_in(admin.dictionary)),
        web.post("/console/api/prefs", signed_in(admin.prefs)),
        web.get("/console/api/teams", signed_in(admin.teams)),
        web.post("/console/api/teams", signed_in(admin.create_team)),
        web.post("/console/api/agents/{name}/teams", signed_in(admin.memberships)),
        web.get("/console/api/directory", signed_in(api.directory)),
        web.get("/console/api/tickets/{ticket}", signed_in(api.ticket)),
        web.post("/console/api/presence", signed_in(api.presence)),
        web.post("/console/api/tickets/{ticket}/{action}", signed_in(act)),
        web.get("/console/ws", socket),
    ])
    # The supervisor dashboard and quality review (kefu/console/dashboard.py, qa.py).
    app.router.add_routes(dashboard.routes() + qa.routes())
    app.router.add_routes(links.routes())  # the customer's linked chats, unlinking (kefu/console/links.py)
    app.router.add_routes(deadletters.routes())  # messages the pipeline gave up on (kefu/console/deadletters.py)
