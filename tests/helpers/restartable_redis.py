"""A real redis-server a test can kill with SIGKILL and start again on the same port, from its AOF."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from kefu.ops.stack import free_port


class RestartableRedis:
    """Like make run's Redis: AOF on (fsync on every write, so a SIGKILL loses nothing acknowledged)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
        self.binary = binary
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="kefu-test-redis-aof-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.workdir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.wait_ready()

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown, no final save."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def wait_ready(self, timeout_s: float = 15) -> None:
        """Until the server answers PING (it refuses commands while it loads its AOF)."""
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def restartable_redis() -> Iterator[RestartableRedis]:
    server = RestartableRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pubsub_clients(url: str) -> list[dict]:
    """The server's clients that hold a subscription (channels or patterns): CLIENT LIST, filtered."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return [c for c in client.client_list() if int(c.get("sub", 0)) or int(c.get("psub", 0))]
    finally:
        client.close()
