"""This process's Prometheus counters (prometheus-client), incremented where things happen.

Counters are per process: every gateway and worker exposes its own at ``/metrics`` (kefu/app/metrics.py), and
Prometheus sums them. What lives in Redis (queue lengths, inbox lag, overdue first responses) is read at
scrape time instead, so any one process reports it.
"""
from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    gc_collector,
    platform_collector,
    process_collector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

MESSAGES_IN = Counter("kefu_messages_in", "Customer messages taken from the inbox and answered or held",
                      ["channel"], registry=REGISTRY)
MESSAGES_OUT = Counter("kefu_messages_out", "Messages sent to customers (bot, agent, system)", ["channel", "role"],
                       registry=REGISTRY)
REPLY_LATENCY = Histogram(
    "kefu_reply_latency_seconds", "From a customer's message arriving to the bot's replies having gone out",
    ["channel"], registry=REGISTRY,
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
HANDOFFS = Counter("kefu_handoffs", "Handoffs opened, by reason", ["reason"], registry=REGISTRY)
RASA_ERRORS = Counter("kefu_rasa_errors", "Failed requests to Rasa: unreachable, http (an error status), protocol",
                      ["kind"], registry=REGISTRY)


def rasa_error(kind: str) -> None:
    RASA_ERRORS.labels(kind).inc()


def sent(channel: str, role: str) -> None:
    MESSAGES_OUT.labels(channel, role).inc()
