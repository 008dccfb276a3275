"""A Redis that can lose the inbox is named as such (kefu/ops/durability.py), on a real server."""
from __future__ import annotations

import redis

from kefu.ops.durability import durability_problems


def test_an_evicting_redis_without_persistence_is_unsafe(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    saved = client.config_get("maxmemory-policy") | client.config_get("appendonly") | client.config_get("save")
    try:
        client.config_set("maxmemory-policy", "allkeys-lru")
        client.config_set("appendonly", "no")
        client.config_set("save", "")
        problems = durability_problems(redis_url)
        assert len(problems) == 2
        assert "allkeys-lru" in problems[0] and "appendonly" in problems[1]
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("appendonly", "yes")
        assert durability_problems(redis_url) == []
    finally:
        for name, value in saved.items():
            client.config_set(name, value)
        client.close()
