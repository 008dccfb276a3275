"""Console accounts (agents and supervisors) in Redis, passwords hashed with Argon2id (argon2-cffi)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.handoff.teams import DEFAULT_TEAM, SAFETY_TEAM, TEAM_NAME

ROLES = ("agent", "supervisor")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
FAILURE_WINDOW_S = 15 * 60
"""Failures are counted in a fixed window from the first one; 15 minutes makes online guessing hopeless."""
ACCOUNT_FAILURES = 5
"""Per account name: enough for a person's typos, far too few for guessing one account's password."""
ADDRESS_FAILURES = 20
"""Per client address, over all names: stops spraying one password over many accounts; higher than the
account limit so several agents behind one office NAT can still mistype."""
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps sign-in time the same either way.
_DUMMY_HASH = _hasher.hash("kefu-no-such-user")


class UserError(ValueError):
    """A bad username, role or password; the message says which."""


def user_key(name: str) -> str:
    return f"kefu:console:user:{name}"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display_name: str
    team: str = DEFAULT_TEAM

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class UserStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add(self, name: str, role: str, password: str, display_name: str = "",
                  team: str = DEFAULT_TEAM) -> User:
        """Create or replace an account; ``team`` routes handoffs (e.g. "safety"), default "general"."""
        if not USERNAME.match(name):
            raise UserError("username: 2-32 characters, lower-case letters, digits, _ . - ")
        if role not in ROLES:
            raise UserError(f"role must be one of {ROLES}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password must have at least {MIN_PASSWORD} characters")
        if not TEAM_NAME.match(team):
            raise UserError("team: 2-32 characters, lower-case letters, digits, _ -")
        user = User(name=name, role=role, display_name=display_name or name, team=team)
        await self.redis.hset(user_key(name), mapping={
            "role": role, "display_name": user.display_name, "hash": _hasher.hash(password), "team": team,
        })
        return user

    async def get(self, name: str) -> User | None:
        raw = await self.redis.hgetall(user_key(name)) if USERNAME.match(name or "") else {}
        if not raw:
            return None
        return _user(name, raw)

    async def everyone(self) -> list[User]:
        """Every account, by name (for the console's transfer list)."""
        names = [key.rsplit(":", 1)[1] async for key in self.redis.scan_iter(match=user_key("*"), count=500)]
        return [user for user in [await self.get(name) for name in sorted(names)] if user is not None]

    async def teams(self) -> list[str]:
        """The teams handoffs can be transferred to: the built-in ones and every account's."""
        return sorted({DEFAULT_TEAM, SAFETY_TEAM} | {user.team for user in await self.everyone()})

    async def authenticate(self, name: str, password: str) -> User | None:
        raw = await self.redis.hgetall(user_key(name)) if USERNAME.match(name or "") else {}
        try:
            _hasher.verify(raw.get("hash") or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if not raw:
            return None
        if _hasher.check_needs_rehash(raw["hash"]):
            await self.redis.hset(user_key(name), "hash", _hasher.hash(password))
        return _user(name, raw)


def _user(name: str, raw: dict[str, str]) -> User:
    return User(name=name, role=raw["role"], display_name=raw.get("display_name") or name,
                team=raw.get("team") or DEFAULT_TEAM)
