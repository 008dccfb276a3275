"""Is the Redis Kefu is given safe for the inbox? A message is acknowledged to the channel once it is in Redis,
so a Redis that evicts keys under memory pressure, or forgets everything when it restarts, loses messages that
customers were told had arrived. Checked at start-up by ``make run``; refused unless the operator says otherwise.
"""
from __future__ import annotations

import redis

SAFE_EVICTION = "noeviction"


def durability_problems(url: str) -> list[str]:
    """What makes this Redis unsafe for the inbox, in words an operator can act on (empty: safe)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3, decode_responses=True)
    try:
        try:
            config = client.config_get("maxmemory-policy") | client.config_get("appendonly") | client.config_get("save")
        except redis.ResponseError as error:  # managed services often disable CONFIG
            return [(f"cannot read the Redis configuration ({error}); make sure maxmemory-policy is noeviction "
                    "and persistence (AOF or snapshots) is on")]
    finally:
        client.close()
    problems = []
    if config.get("maxmemory-policy", SAFE_EVICTION) != SAFE_EVICTION:
        problems.append(f"maxmemory-policy is {config['maxmemory-policy']}: under memory pressure Redis deletes "
                        "keys, queued customer messages among them (set it to noeviction)")
    if config.get("appendonly") != "yes" and not config.get("save"):
        problems.append("neither AOF (appendonly) nor snapshots (save) are on: a Redis restart loses every queued "
                        "message and conversation (set appendonly yes)")
    return problems
