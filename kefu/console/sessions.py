"""Console sessions: a random token in an HttpOnly, SameSite=Strict cookie; the session in Redis holds the
user and a CSRF token every state-changing request must echo in a header."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.console.users import User, user_from_hash, user_key

COOKIE = "kefu_console"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL_S = 12 * 3600


def session_key(token: str) -> str:
    return f"kefu:console:session:{token}"


@dataclass(frozen=True)
class Session:
    token: str
    user: User
    csrf: str

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf.encode(), (presented or "").encode())


class SessionStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def create(self, user: User) -> Session:
        session = Session(token=secrets.token_urlsafe(32), user=user, csrf=secrets.token_urlsafe(32))
        await self.redis.hset(session_key(session.token), mapping={
            "name": user.name, "role": user.role, "display_name": user.display_name, "csrf": session.csrf,
            "team": user.team,
        })
        await self.redis.expire(session_key(session.token), SESSION_TTL_S)
        return session

    async def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 100:
            return None
        raw = await self.redis.hgetall(session_key(token))
        if not raw:
            return None
        # The account as it is now: a supervisor's change of teams or role applies at once, a removed account
        # loses its sessions.
        account = await self.redis.hgetall(user_key(raw["name"]))
        if not account:
            return None
        await self.redis.expire(session_key(token), SESSION_TTL_S)
        return Session(token=token, user=user_from_hash(raw["name"], account), csrf=raw["csrf"])

    async def drop(self, token: str) -> None:
        await self.redis.delete(session_key(token))
