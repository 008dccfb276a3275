"""The action server's long-lived resources (settings, Redis, order backend, tickets), created once per process."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.asyncio as aioredis

from kefu.config.orders import OrderSettings
from kefu.config.redis_url import DEFAULT_REDIS_URL, redacted, redis_url
from kefu.config.shop import ShopSettings
from kefu.core.tickets import TicketStore
from kefu.orders import OrderBackend, create_backend

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ActionServerSettings:
    """The part of Kefu's configuration the action server needs: the gateway's Redis, order backend and shop.

    Built from the same classes (and REDIS_URL default) as the gateway's Settings, so the two processes, both
    started by kefu/ops/stack.py with one environment, cannot disagree; the gateway's secrets are not required.
    """

    redis_url: str = DEFAULT_REDIS_URL
    orders: OrderSettings = field(default_factory=OrderSettings)
    shop: ShopSettings = field(default_factory=ShopSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionServerSettings:
        env = os.environ if env is None else env
        return cls(redis_url=redis_url(env), orders=OrderSettings.from_env(env), shop=ShopSettings.from_env(env))


@dataclass
class Services:
    """Everything an action needs from outside; tests build one over their own Redis and install it."""

    settings: ActionServerSettings
    redis: aioredis.Redis
    backend: OrderBackend
    tickets: TicketStore
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_settings(cls, settings: ActionServerSettings) -> Services:
        redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        return cls(settings=settings, redis=redis, backend=create_backend(settings.orders, redis),
                   tickets=TicketStore(redis))

    async def close(self) -> None:
        await self.backend.close()
        await self.redis.aclose()


_settings: ActionServerSettings | None = None
_services: Services | None = None


def configure(settings: ActionServerSettings | None = None) -> ActionServerSettings:
    """Read the environment once (at import of `actions`), so a bad setting stops the server at start-up."""
    global _settings
    if settings is not None or _settings is None:
        _settings = settings or ActionServerSettings.from_env()
    return _settings


def services() -> Services:
    """The process's services, connected lazily inside the running event loop on first use."""
    global _services
    if _services is None:
        _services = Services.from_settings(configure())
        log.info("action services ready: backend=%s redis=%s", _services.settings.orders.backend,
                 redacted(_services.settings.redis_url))
    return _services


def install(replacement: Services | None) -> None:
    """Use these services from now on (tests), or forget them so the next call builds fresh ones."""
    global _services
    _services = replacement
