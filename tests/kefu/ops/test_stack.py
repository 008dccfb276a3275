"""An eval or a bench gets a Redis server of its own: two runs, or a run beside ``make run``, share nothing."""
from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import signal
import time
from pathlib import Path

import redis

from kefu.config.settings import Settings
from kefu.ops.runtime import on_free_ports
from kefu.ops.stack import RESTART_PAUSES_S, Stack, redis_answers


def _settings() -> Settings:
    return Settings(redis_url="redis://127.0.0.1:6390/0", rasa_url="http://127.0.0.1:5005",
                    rasa_token=secrets.token_hex(8), identity_secret=secrets.token_hex(8))


def test_two_runs_get_different_redis_servers_and_ports() -> None:
    first, second = on_free_ports(_settings()), on_free_ports(_settings())
    assert first.redis_url != second.redis_url and first.redis_url != _settings().redis_url
    assert len({first.port, first.actions_port, second.port, second.actions_port}) == 4


def test_a_scratch_redis_keeps_nothing_on_disk_and_ends_with_the_run(tmp_path: Path) -> None:
    settings = on_free_ports(_settings())
    stack = Stack(settings, model=tmp_path / "unused.tar.gz", log_dir=tmp_path, scratch_redis=True)
    stack.start_redis_if_needed()
    try:
        client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("save")["save"] == ""
        assert "kefu-scratch-redis-" in client.config_get("dir")["dir"]
        client.close()
    finally:
        stack.stop()
    assert not redis_answers(settings.redis_url)


async def test_a_killed_child_is_started_again_and_answers(tmp_path: Path) -> None:
    settings = on_free_ports(_settings())
    stack = Stack(settings, model=tmp_path / "unused.tar.gz", log_dir=tmp_path, scratch_redis=True)
    stack.start_redis_if_needed()
    supervisor = asyncio.create_task(stack.supervise(every_s=0.1))
    try:
        first = stack.children[0].process.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while not (redis_answers(settings.redis_url) and stack.children[0].process.pid != first):
            assert time.monotonic() < deadline, "redis was not started again"
            await asyncio.sleep(0.2)
        assert stack.children[0].restarts == 1
    finally:
        supervisor.cancel()
        stack.stop()
    assert not redis_answers(settings.redis_url)


def test_a_child_that_keeps_dying_waits_longer_each_time(tmp_path: Path) -> None:
    stack = Stack(on_free_ports(_settings()), model=tmp_path / "unused.tar.gz", log_dir=tmp_path)
    stack._spawn("doomed", ["false"], dict(os.environ))
    stack.children[0].process.wait()
    starts, now = [], 0.0
    while len(starts) < 4:
        if stack.restart_dead(now):
            starts.append(now)
            stack.children[0].process.wait()
        now += 0.25
    pauses = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert starts[0] == RESTART_PAUSES_S[0]
    assert pauses == sorted(pauses) and pauses[-1] > pauses[0], starts
    stack.stop()
