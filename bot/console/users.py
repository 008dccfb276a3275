"""Console accounts (agents and supervisors) in Redis, passwords hashed with Argon2id (argon2-cffi)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("agent", "supervisor")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
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

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class UserStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add(self, name: str, role: str, password: str, display_name: str = "") -> User:
        """Create or replace an account."""
        if not USERNAME.match(name):
            raise UserError("username: 2-32 characters, lower-case letters, digits, _ . - ")
        if role not in ROLES:
            raise UserError(f"role must be one of {ROLES}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password must have at least {MIN_PASSWORD} characters")
        user = User(name=name, role=role, display_name=display_name or name)
        await self.redis.hset(user_key(name), mapping={
            "role": role, "display_name": user.display_name, "hash": _hasher.hash(password),
        })
        return user

    async def get(self, name: str) -> User | None:
        raw = await self.redis.hgetall(user_key(name)) if USERNAME.match(name or "") else {}
        if not raw:
            return None
        return User(name=name, role=raw["role"], display_name=raw.get("display_name") or name)

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
        return User(name=name, role=raw["role"], display_name=raw.get("display_name") or name)
