"""Console accounts (agents and supervisors) in Redis, passwords hashed with Argon2id (argon2-cffi).

Argon2 is deliberately slow (tens of milliseconds of CPU and 64 MiB per call), so hashing and verifying run in a
worker thread: on the event loop one unauthenticated login would stall every webhook the gateway serves.
``SignInLimits`` caps failed sign-ins per account and per client address so the password cannot be guessed.
"""
from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, replace

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.core import keys
from kefu.core.i18n import LANGUAGES
from kefu.handoff.teams import DEFAULT_TEAM, SAFETY_TEAM, TEAM_NAME, team_list

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
    return keys.console_user(name)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display_name: str
    team: str = DEFAULT_TEAM  # the account's teams, comma-separated ("general,safety"): see ``teams``
    locale: str = ""  # the console language the agent chose ("" until they choose: the browser's)

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def teams(self) -> tuple[str, ...]:
        return team_list(self.team)


def checked_teams(teams: str | list[str] | tuple[str, ...]) -> str:
    """The stored form of a list of team names; UserError naming a bad one."""
    names = team_list(teams)
    for name in names:
        if not TEAM_NAME.match(name):
            raise UserError("team: 2-32 characters, lower-case letters, digits, _ -")
    return ",".join(names)


class UserStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.limits = SignInLimits(redis)

    async def add(self, name: str, role: str, password: str, display_name: str = "",
                  team: str = DEFAULT_TEAM) -> User:
        """Create or replace an account; ``team`` routes handoffs (e.g. "safety"), default "general"."""
        if not USERNAME.match(name):
            raise UserError("username: 2-32 characters, lower-case letters, digits, _ . - ")
        if role not in ROLES:
            raise UserError(f"role must be one of {ROLES}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password must have at least {MIN_PASSWORD} characters")
        team = checked_teams(team)
        user = User(name=name, role=role, display_name=display_name or name, team=team)
        await self.redis.hset(user_key(name), mapping={
            "role": role, "display_name": user.display_name, "hash": await _hash(password), "team": team,
        })
        return user

    async def get(self, name: str) -> User | None:
        raw = await self.redis.hgetall(user_key(name)) if USERNAME.match(name or "") else {}
        if not raw:
            return None
        return user_from_hash(name, raw)

    async def everyone(self) -> list[User]:
        """Every account, by name (for the console's transfer list)."""
        names = [key.rsplit(":", 1)[1] async for key in self.redis.scan_iter(match=user_key("*"), count=500)]
        return [user for user in [await self.get(name) for name in sorted(names)] if user is not None]

    async def teams(self) -> list[str]:
        """The teams handoffs can be transferred to: the built-in ones, those a supervisor created, every account's."""
        created = await self.redis.smembers(keys.CONSOLE_TEAMS)
        members = {team for user in await self.everyone() for team in user.teams}
        return sorted({DEFAULT_TEAM, SAFETY_TEAM} | set(created) | members)

    async def create_team(self, team: str) -> None:
        checked_teams(team)
        await self.redis.sadd(keys.CONSOLE_TEAMS, team)

    async def set_teams(self, name: str, teams: list[str] | tuple[str, ...]) -> User:
        """Replace an account's memberships (a supervisor's console does this); at least one team."""
        user = await self.get(name)
        if user is None:
            raise UserError(f"no account {name!r}")
        stored = checked_teams(teams)
        await self.redis.hset(user_key(name), "team", stored)
        return replace(user, team=stored)

    async def set_locale(self, name: str, locale: str) -> None:
        """Remember the console language the agent chose (every device they sign in on uses it)."""
        if locale not in LANGUAGES:
            raise UserError(f"locale must be one of {LANGUAGES}")
        await self.redis.hset(user_key(name), "locale", locale)

    async def authenticate(self, name: str, password: str) -> User | None:
        """The account if the password is right; an unknown name verifies a dummy hash, so it takes as long."""
        raw = await self.redis.hgetall(user_key(name)) if USERNAME.match(name or "") else {}
        if not await _verify(raw.get("hash") or _DUMMY_HASH, password) or not raw:
            return None
        if _hasher.check_needs_rehash(raw["hash"]):
            await self.redis.hset(user_key(name), "hash", await _hash(password))
        return user_from_hash(name, raw)


# KEYS[1] the account's failure counter, KEYS[2] the address's; ARGV: account limit, address limit, window (s).
# Check and count in one step: concurrent guesses cannot all pass the check before any of them is counted.
# Returns 0 when the attempt may go ahead (it is counted as a failure until it succeeds), else the
# milliseconds until the fullest counter expires.
_ADMIT = """
local wait = 0
for i, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then
        local ttl = redis.call('PTTL', key)
        if ttl < 0 then
            redis.call('EXPIRE', key, ARGV[3])
            ttl = tonumber(ARGV[3]) * 1000
        end
        wait = math.max(wait, ttl)
    end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
    redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[3], 'NX')
end
return 0
"""

# KEYS[1] the account's counter, KEYS[2] the address's: the attempt succeeded. The account starts again; the
# address only takes back this attempt (never reset: knowing one account must not buy guesses at others).
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
    redis.call('DECR', KEYS[2])
end
return 0
"""


class SignInLimits:
    """At most ``ACCOUNT_FAILURES`` per account name and ``ADDRESS_FAILURES`` per client address per window.

    An attempt is counted before its password is checked (so a flood cannot race the count) and taken back
    when it succeeds. While either counter is full, every attempt is refused, the right password included.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self._admit = redis.register_script(_ADMIT)
        self._succeeded = redis.register_script(_SUCCEEDED)

    async def admit(self, name: str, address: str) -> int:
        """0 if this attempt may be checked (it now counts as a failure), else seconds until one may."""
        wait_ms = await self._admit(keys=_counters(name, address),
                                    args=[ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW_S])
        return math.ceil(int(wait_ms) / 1000)

    async def succeeded(self, name: str, address: str) -> None:
        await self._succeeded(keys=_counters(name, address))


def _counters(name: str, address: str) -> list[str]:
    # Any name counts (unknown ones too); cut long ones, which can never be accounts, to bound the key size.
    return [keys.console_login_failures(name[:64]), keys.console_login_address_failures(address)]


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, hash, password)
    except (VerificationError, InvalidHashError):
        return False


def user_from_hash(name: str, raw: dict[str, str]) -> User:
    """An account from its Redis hash (a session reads it afresh on every request: role and teams apply at once)."""
    return User(name=name, role=raw["role"], display_name=raw.get("display_name") or name,
                team=raw.get("team") or DEFAULT_TEAM, locale=raw.get("locale") or "")
