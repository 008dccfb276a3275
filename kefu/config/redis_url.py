"""Where Redis is: one default for every process, so the gateway and the action server share one database."""
from __future__ import annotations

from collections.abc import Mapping

from kefu.config.env import text

# The project-local Redis `make run` starts (kefu/ops/stack.py), apart from a system Redis on 6379.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6390/0"


def redis_url(env: Mapping[str, str]) -> str:
    return text(env, "REDIS_URL", DEFAULT_REDIS_URL)
