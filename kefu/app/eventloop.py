"""Kefu's long-running processes run on uvloop: the same asyncio code, with a cheaper event loop per message
(it matters on the acknowledgement path, measured by ``python -m bench wechat``). Tests use asyncio's own."""
from __future__ import annotations

import asyncio
import gc
import signal
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


async def until_stopped() -> None:
    """Return on SIGINT or SIGTERM (Ctrl-C, or the parent stopping its children)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
