"""Stopping a background task for sure.

redis-py (8.x) can lose a cancellation: one that lands while a read with a timeout is ending comes out as a
timeout or connection error, which a retry loop catches and carries on, and the task never ends (an app's
shutdown then hangs on it). So a task is cancelled again until it is done.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], patience_s: float = 1.0) -> None:
    """Cancel ``task`` and wait for it to end, cancelling again every ``patience_s`` while it has not."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=patience_s)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
