"""cancel_and_wait ends a task that loses a cancellation (as redis-py can), where one cancel() would hang."""
from __future__ import annotations

import asyncio

from kefu.core.tasks import cancel_and_wait


async def test_a_task_that_swallows_one_cancel_still_ends() -> None:
    swallowed = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)  # lost, as a cancel turned into a caught timeout would be

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, patience_s=0.05), 5)
    assert task.cancelled() and swallowed == [True]
