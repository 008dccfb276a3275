"""The console's typed application state, under its own keys, so it needs nothing from the app layer above it."""
from __future__ import annotations

from aiohttp import web

from kefu.config.settings import Settings
from kefu.console.sessions import Session, SessionStore
from kefu.console.users import UserStore
from kefu.handoff.manager import HandoffManager

SETTINGS = web.AppKey("console_settings", Settings)
USERS = web.AppKey("console_users", UserStore)
SESSIONS = web.AppKey("console_sessions", SessionStore)
# Set by the gateway once the manager exists (it is built when the app starts, after the routes).
HANDOFF = web.AppKey("console_handoff", HandoffManager)
SESSION = web.RequestKey("console_session", Session)  # set by the auth check (auth.signed_in)
