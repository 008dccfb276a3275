"""Kefu's own processes beside the stack: more gateways on the same port, and the pipeline workers.

A gateway only takes messages in and serves pages and websockets, so its event loop stays free for WeChat's and
Telegram's acknowledgement deadlines; the workers answer (Rasa, handoff, delivery) at a lower CPU priority.
Gateways share the port (``SO_REUSEPORT``: the kernel spreads connections), workers share the inbox (shard
leases), and all of them share state through Redis only. Children get the exact settings of the process that
starts them (the spawn start method pickles them), and one that dies is started again.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
from collections.abc import AsyncIterator
from multiprocessing.process import BaseProcess

import redis

from kefu.app import eventloop
from kefu.config.logs import configure_logging
from kefu.config.settings import Settings
from kefu.core import keys

log = logging.getLogger(__name__)

RESTART_CHECK_S = 2.0
STOP_TIMEOUT_S = 15.0
ROLES = ("gateway", "worker")


def _main(role: str, settings: Settings) -> None:
    configure_logging()
    # Imported in the child, by role: a worker never loads the web app, the console or the receivers.
    if role == "worker":
        from kefu.app.worker import work

        os.nice(settings.background_nice)
        eventloop.run(work(settings))
    else:
        from kefu.app.server import gateway

        eventloop.run(gateway(settings))


class ProcessGroup:
    """``count`` processes of one role, kept running."""

    def __init__(self, role: str, settings: Settings, count: int) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.role = role
        self.settings = settings
        self.count = count
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []

    @property
    def pids(self) -> list[int | None]:
        return [process.pid for process in self._processes]

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.count)]

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(target=_main, args=(self.role, self.settings), name=f"kefu-{self.role}",
                                        daemon=True)
        process.start()
        log.info("started %s (pid %s)", self.role, process.pid)
        return process

    def replace_dead(self) -> None:
        for index, process in enumerate(self._processes):
            if not process.is_alive():
                log.error("%s (pid %s) exited with %s; starting another", self.role, process.pid, process.exitcode)
                if self.role == "worker" and process.pid is not None:
                    released = release_leases(self.settings, process.pid)
                    log.info("released %d shard lease(s) of the dead worker", released)
                self._processes[index] = self._spawn()
                self.restarts += 1

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        self._processes.clear()


# Delete the shard leases held by a process of this host with this pid (whatever the rest of its name), so the
# next worker takes its shards at once instead of waiting for the leases to run out.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner and string.sub(owner, 1, string.len(ARGV[1])) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
"""


def release_leases(settings: Settings, pid: int) -> int:
    """Free a dead worker's shards (kefu/pipeline/pipeline.py names owners ``host-pid-tag``); the count freed."""
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return int(client.eval(_RELEASE, settings.shards, *[keys.shard_lease(s) for s in range(settings.shards)],
                               f"{socket.gethostname()}-{pid}-"))
    except (redis.RedisError, OSError) as error:
        log.warning("could not release the dead worker's leases (%s): its shards wait for them to expire", error)
        return 0
    finally:
        client.close()


@contextlib.asynccontextmanager
async def running_processes(settings: Settings) -> AsyncIterator[list[ProcessGroup]]:
    """The gateways beyond the caller's own (``gateways - 1``) and the pipeline workers, until the block ends."""
    groups = [ProcessGroup("gateway", settings, settings.gateways - 1),
              ProcessGroup("worker", settings, settings.pipeline_workers)]
    for group in groups:
        group.start()

    async def keep_running() -> None:
        while True:
            await asyncio.sleep(RESTART_CHECK_S)
            for group in groups:
                group.replace_dead()

    keeper = asyncio.create_task(keep_running(), name="kefu-processes")
    try:
        yield groups
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        for group in groups:
            await asyncio.to_thread(group.stop)
