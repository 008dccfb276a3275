"""The action server's long-lived resources (settings, Redis, order backend, tickets), created once per process."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.asyncio as aioredis

from kefu.config.orders import ActionSettings
from kefu.core.tickets import TicketStore
from kefu.orders import OrderBackend, create_backend

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything an action needs from outside; tests build one over their own Redis and install it."""

    settings: ActionSettings
    redis: aioredis.Redis
    backend: OrderBackend
    tickets: TicketStore
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_settings(cls, settings: ActionSettings) -> Services:
        redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        return cls(settings=settings, redis=redis, backend=create_backend(settings, redis),
                   tickets=TicketStore(redis))

    async def close(self) -> None:
        await self.backend.close()
        await self.redis.aclose()


_settings: ActionSettings | None = None
_services: Services | None = None


def configure(settings: ActionSettings | None = None) -> ActionSettings:
    """Read the environment once (at import of `actions`), so a bad setting stops the server at start-up."""
    global _settings
    if settings is not None or _settings is None:
        _settings = settings or ActionSettings.from_env()
    return _settings


def services() -> Services:
    """The process's services, connected lazily inside the running event loop on first use."""
    global _services
    if _services is None:
        _services = Services.from_settings(configure())
        log.info("action services ready: backend=%s redis=%s", _services.settings.order_backend,
                 _services.settings.redis_url)
    return _services


def install(replacement: Services | None) -> None:
    """Use these services from now on (tests), or forget them so the next call builds fresh ones."""
    global _services
    _services = replacement
