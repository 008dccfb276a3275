"""Demo mode: the demo shop page (which signs any demo customer in) and the demo orders.

On only where it cannot reach real customers: by default when REDIS_URL is not set, i.e. ``make run`` on a
fresh clone with its own project-local Redis. A configured Redis is taken to be a real installation's, so
demo mode there needs an explicit ``KEFU_DEMO=1``.
"""
from __future__ import annotations

from collections.abc import Mapping

from kefu.config.env import flag, text


def demo_mode(env: Mapping[str, str]) -> bool:
    return flag(env, "KEFU_DEMO", default=not text(env, "REDIS_URL"))
