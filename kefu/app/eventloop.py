"""Kefu's long-running processes run on uvloop: the same asyncio code, with a cheaper event loop per message
(it matters on the acknowledgement path, measured by ``python -m kefu bench wechat``). Tests use asyncio's own."""
from __future__ import annotations

import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(main)


def freeze_startup_objects() -> None:
    """Keep the ~100k objects of a started app (libraries, routes, clients) out of garbage collection: a full
    collection over them takes tens of milliseconds, a stall every request in flight would wait out."""
    gc.collect()
    gc.freeze()
