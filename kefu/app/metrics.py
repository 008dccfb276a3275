"""``GET /metrics`` for Prometheus: this process's counters (kefu/core/metrics.py) and, read from Redis at
scrape time, what every process shares (inbox backlog and lag, the handoff queue by priority, first responses
overdue and breached).

With ``KEFU_METRICS_TOKEN`` set the scraper sends ``Authorization: Bearer <token>``; without it only a
loopback client is answered. Each gateway and worker counts for itself, and every ``REPORT_EVERY_S`` leaves a
copy of its counters in Redis: so a scrape of any one gateway shows every live process's counters, each with
its ``process`` label (sum them with ``sum without (process)``); workers have no HTTP port of their own.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from kefu.config.service_levels import ServiceLevels
from kefu.core import keys, metrics
from kefu.core.service_times import handoffs_between
from kefu.handoff.decision import PRIORITY_RANK
from kefu.handoff.state import queue_score

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Active handoffs older than this are not looked at for "overdue" (the handoff index is read by time).
OVERDUE_HORIZON_S = 7 * 24 * 3600
BREACH_WINDOW_S = 24 * 3600
# Each process leaves its counters in Redis this often; a copy older than STALE_S is a process that is gone.
REPORT_EVERY_S = 10.0
STALE_S = 60.0


def process_name() -> str:
    """This process, as its counters are labelled: host and pid (the same for every caller in the process)."""
    return f"{socket.gethostname()}-{os.getpid()}"


class _Families(Collector):
    """Families computed before the scrape (their values come from async Redis reads)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _gauge(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


async def shared_gauges(redis: aioredis.Redis, shards: int, levels: ServiceLevels,
                        now: float | None = None) -> list[GaugeMetricFamily]:
    now = time.time() if now is None else now
    pending, oldest = 0, now
    for shard in range(shards):
        stream = keys.inbox_stream(shard)
        pending += await redis.xlen(stream)
        first = await redis.xrange(stream, count=1)
        if first:
            oldest = min(oldest, int(first[0][0].split("-")[0]) / 1000)
    families = [
        GaugeMetricFamily("kefu_inbox_pending", "Customer messages in the inbox not answered yet", value=pending),
        GaugeMetricFamily("kefu_inbox_lag_seconds", "Age of the oldest message still in the inbox",
                          value=max(0.0, now - oldest)),
    ]
    queued = {}
    for priority in PRIORITY_RANK:
        low, high = queue_score(priority, 0), queue_score(priority, 0) + 1e13
        queued[priority] = await redis.zcount(keys.HANDOFF_QUEUE, low, f"({high}")
    families.append(_gauge("kefu_handoff_queue_length", "Handoffs waiting for an agent", "priority", queued))
    recent = await handoffs_between(redis, now - OVERDUE_HORIZON_S, now)
    overdue = {priority: 0.0 for priority in PRIORITY_RANK}
    breached = {priority: 0.0 for priority in PRIORITY_RANK}
    for handoff in recent:
        if handoff.priority not in overdue:
            continue
        late = handoff.breached(levels.target(handoff.priority), now)
        if late and handoff.active and handoff.first_response_s() is None:
            overdue[handoff.priority] += 1
        if late and handoff.created_at >= now - BREACH_WINDOW_S:
            breached[handoff.priority] += 1
    families.append(_gauge("kefu_sla_first_response_overdue",
                           "Active handoffs past their first-response target with no answer yet", "priority", overdue))
    families.append(_gauge("kefu_sla_breaches_24h",
                           "Handoffs opened in the last 24 hours whose first response missed its target",
                           "priority", breached))
    return families


def allowed(request: web.Request, token: str) -> bool:
    """The configured bearer token (compared in constant time), or, without one, a loopback client only."""
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def report(redis: aioredis.Redis, process: str) -> None:
    """Leave this process's counters in Redis for the gateways' scrapes."""
    await redis.hset(keys.METRICS_PROCESSES, process, json.dumps(
        {"at": time.time(), "text": generate_latest(metrics.REGISTRY).decode()}))


async def keep_reporting(redis: aioredis.Redis, every_s: float = REPORT_EVERY_S) -> None:
    """Report until cancelled (run by every gateway and worker, kefu/app/insights.py)."""
    while True:
        try:
            await report(redis, process_name())
        except (aioredis.ConnectionError, aioredis.TimeoutError) as error:
            log.warning("metrics: Redis unavailable (%s); reporting later", error)
        await asyncio.sleep(every_s)


async def processes(redis: aioredis.Redis, own: str, now: float | None = None) -> dict[str, str]:
    """Every live process's counters in exposition text, this one's fresh; stale copies are dropped."""
    now = time.time() if now is None else now
    found = {own: generate_latest(metrics.REGISTRY).decode()}
    for name, raw in (await redis.hgetall(keys.METRICS_PROCESSES)).items():
        copy = json.loads(raw)
        if now - float(copy["at"]) > STALE_S:
            await redis.hdel(keys.METRICS_PROCESSES, name)
        elif name != own:
            found[name] = copy["text"]
    return found


def labelled(texts: dict[str, str]) -> list[Metric]:
    """The processes' families merged, each sample labelled with its ``process``."""
    merged: dict[str, Metric] = {}
    for process, text in sorted(texts.items()):
        for family in text_string_to_metric_families(text):
            target = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            for sample in family.samples:
                target.add_sample(sample.name, {"process": process, **sample.labels}, sample.value, sample.timestamp)
    return list(merged.values())


def metrics_handler(redis: aioredis.Redis, shards: int, levels: ServiceLevels) -> Handler:
    """The route's handler, bound to the process's Redis and settings."""
    async def scrape(request: web.Request) -> web.StreamResponse:
        if not allowed(request, levels.metrics_token):
            raise web.HTTPUnauthorized(text="metrics: bearer token required\n",
                                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        families = labelled(await processes(redis, process_name())) + await shared_gauges(redis, shards, levels)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(families))
        return web.Response(body=generate_latest(registry),
                            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})
    return scrape
