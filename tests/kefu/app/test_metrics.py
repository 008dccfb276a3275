"""``/metrics`` on a real gateway: refused without the token (or, without one configured, from a non-loopback
address); with it, the counters of every live process, labelled, and the gauges read from Redis."""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from kefu.app.metrics import allowed, report
from kefu.config.service_levels import ServiceLevels
from kefu.config.settings import Settings
from kefu.core import keys, metrics
from kefu.core.messages import InboundMessage
from kefu.handoff.state import Handoff, HandoffStore
from tests.helpers.gateway import running_gateway
from tests.kefu.console.test_dashboard import gateway_settings

TOKEN = "scrape-me-0123456789"


@pytest.fixture
async def metrics_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = dataclasses.replace(gateway_settings(redis_url), service_levels=ServiceLevels(metrics_token=TOKEN))
    async with running_gateway(settings, run_pipeline=False):
        yield settings


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(base: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics", headers=headers or {}) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_metrics_need_the_token(metrics_gateway: Settings) -> None:
    base = metrics_gateway.public_origin
    assert (await scrape(base))[0] == 401
    assert (await scrape(base, {"Authorization": "Bearer wrong"}))[0] == 401
    assert (await scrape(base, {"Authorization": TOKEN}))[0] == 401
    status, content_type, _ = await scrape(base, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")


class _Request:
    def __init__(self, remote: str, headers: dict[str, str] | None = None) -> None:
        self.remote = remote
        self.headers = headers or {}


@pytest.mark.parametrize(("remote", "ok"), [("127.0.0.1", True), ("::1", True), ("10.0.0.7", False),
                                           ("192.168.1.2", False), ("", False)])
def test_without_a_token_only_loopback_is_answered(remote: str, ok: bool) -> None:
    assert allowed(_Request(remote), "") is ok  # type: ignore[arg-type]
    assert allowed(_Request(remote, {"Authorization": "Bearer x"}), "x")  # type: ignore[arg-type]


async def test_counters_of_every_process_and_gauges_from_redis(
    metrics_gateway: Settings, redis_client: aioredis.Redis
) -> None:
    base = metrics_gateway.public_origin
    metrics.sent("wechat", "agent")
    metrics.HANDOFFS.labels("safety").inc()
    metrics.rasa_error("unreachable")
    metrics.REPLY_LATENCY.labels("web").observe(0.7)
    # a worker elsewhere left its counters; a process gone for minutes left a stale copy
    await report(redis_client, "worker-1")
    await redis_client.hset(keys.METRICS_PROCESSES, "gone-1", json.dumps({"at": time.time() - 600, "text": ""}))
    # two handoffs waiting (urgent, normal), the urgent one for 5 minutes with no answer; a message in the inbox
    now = time.time()
    store = HandoffStore(redis_client)
    for ticket, priority, age in [("T-100991", "urgent", 300), ("T-100992", "normal", 10)]:
        await store.open(Handoff(ticket, f"cust:{ticket}", "", "web", "zh", "safety", priority, "m", "t",
                                 now - age), {})
    await redis_client.xadd(keys.inbox_stream(3), {"message": InboundMessage("web", "v", "c", "hi").to_json()},
                            id=f"{int((now - 42) * 1000)}-0")

    status, _, text = await scrape(base, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    found = samples(text)
    processes = {dict(labels)["process"] for (name, labels) in found if name == "kefu_messages_out_total"}
    assert "worker-1" in processes and len(processes) == 2 and "gone-1" not in processes
    own = next(p for p in processes if p != "worker-1")
    assert found[("kefu_messages_out_total", (("channel", "wechat"), ("process", own), ("role", "agent")))] >= 1
    assert found[("kefu_handoffs_total", (("process", own), ("reason", "safety")))] >= 1
    assert found[("kefu_rasa_errors_total", (("kind", "unreachable"), ("process", own)))] >= 1
    assert found[("kefu_reply_latency_seconds_bucket", (("channel", "web"), ("le", "1.0"), ("process", own)))] >= 1
    assert found[("kefu_handoff_queue_length", (("priority", "urgent"),))] == 1
    assert found[("kefu_handoff_queue_length", (("priority", "high"),))] == 0
    assert found[("kefu_handoff_queue_length", (("priority", "normal"),))] == 1
    assert found[("kefu_sla_first_response_overdue", (("priority", "urgent"),))] == 1
    assert found[("kefu_sla_first_response_overdue", (("priority", "normal"),))] == 0
    assert found[("kefu_sla_breaches_24h", (("priority", "urgent"),))] == 1
    assert found[("kefu_inbox_pending", ())] == 1
    assert 40 <= found[("kefu_inbox_lag_seconds", ())] < 120
    assert await redis_client.hget(keys.METRICS_PROCESSES, "gone-1") is None
