"""The one check every Redis-using command makes first, with one message (the password never printed)."""
from __future__ import annotations

import sys

from kefu.config.redis_url import redacted
from kefu.ops.stack import redis_answers


def redis_missing(url: str) -> bool:
    """True, after telling the user how to fix it, when Redis at ``url`` does not answer."""
    if redis_answers(url):
        return False
    print(f"Redis at {redacted(url)} does not answer: start it (make run does) or set REDIS_URL", file=sys.stderr)
    return True
