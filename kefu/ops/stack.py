"""Starts and stops the processes behind Kefu on this machine: Redis (when none answers), the action
server and the Rasa server. Used by ``python -m kefu run``, ``eval`` and the end-to-end tests."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
import redis

from kefu.config.redis_url import has_password, redacted, uses_tls
from kefu.config.settings import PROJECT_ROOT, Settings
from kefu.dialogue.rasa_client import RasaClient
from kefu.ops.model import RASA_BIN, rasa_env

log = logging.getLogger(__name__)

STATE_DIR = PROJECT_ROOT / ".kefu"


class StackError(RuntimeError):
    """A part of the stack could not be started; the message says which and where its log is."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_answers(url: str) -> bool:
    try:
        check_redis(url)
    except StackError:
        return False
    return True


def check_redis(url: str, timeout_s: float = 1.0) -> None:
    """PING the Redis at ``url``; a StackError saying what is wrong (not reachable, the password refused, the
    TLS certificate not trusted), the password never in it."""
    where = redacted(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.AuthenticationError, redis.ResponseError) as error:
        if not has_password(url) and (isinstance(error, redis.AuthenticationError) or "NOAUTH" in str(error)):
            raise StackError(f"Redis at {where} needs a password: put it in REDIS_URL "
                             "(redis://user:password@host:port/db)") from None
        if isinstance(error, redis.AuthenticationError):
            raise StackError(f"Redis at {where} refused the password ({error}): check the password in REDIS_URL "
                             "(redis://user:password@host:port/db)") from None
        raise StackError(f"Redis at {where} answered: {error}") from None
    except (redis.RedisError, OSError) as error:
        hint = ""
        if "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate verify failed" in str(error):
            hint = ": the server's TLS certificate is not trusted; give its CA in KEFU_REDIS_CA (or ?ssl_ca_certs=)"
        elif "wrong version number" in str(error) or "record layer failure" in str(error):
            hint = ": this port does not speak TLS; use redis:// (or the server's --tls-port)"
        raise StackError(f"Redis at {where} does not answer ({type(error).__name__}: {error}){hint}") from None


def wait_for_port(port: int, timeout_s: float, process: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


# A child that dies is started again after a pause that doubles while it keeps dying, up to this long; one
# that stayed up this long is healthy again (its next death waits the shortest pause).
RESTART_PAUSES_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
HEALTHY_AFTER_S = 60.0


@dataclass
class Child:
    """One process of the stack and how to start it again."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0
    deaths_in_a_row: int = 0
    restart_at: float | None = None


@dataclass
class Stack:
    """The child processes of one Kefu installation, supervised (``supervise``); ``stop`` ends them in reverse
    order."""

    settings: Settings
    model: Path
    log_dir: Path = STATE_DIR / "logs"
    # An eval or bench gets a Redis server of its own, in memory only (no AOF, no snapshot, a temporary
    # directory), so two runs, or a run and ``make run``, never share a queue.
    scratch_redis: bool = False
    # A scratch Redis that keeps an append-only file in its temporary directory, so it comes back with its data
    # after a kill -9 (the fault bench).
    scratch_aof: bool = False
    children: list[Child] = field(default_factory=list)

    @property
    def processes(self) -> list[tuple[str, subprocess.Popen]]:
        return [(child.name, child.process) for child in self.children]

    def _spawn(self, name: str, command: list[str], env: dict[str, str], nice: int = 0) -> subprocess.Popen:
        if nice:
            command = ["nice", "-n", str(nice), *command]
        child = Child(name, command, env, self.log_dir / f"{name}.log", self._popen(name, command, env))
        self.children.append(child)
        return child.process

    def _popen(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log_file:  # the child keeps its own descriptor
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file,
                                       stderr=subprocess.STDOUT)
        log.info("started %s (pid %s), log in %s", name, process.pid, log_file.name)
        return process

    def restart_dead(self, now: float | None = None) -> list[str]:
        """Start again every child that exited, each after its back-off pause; returns the names started."""
        now = time.monotonic() if now is None else now
        started = []
        for child in self.children:
            if child.process.poll() is None:
                if child.deaths_in_a_row and now - child.started_at > HEALTHY_AFTER_S:
                    child.deaths_in_a_row = 0
                continue
            if child.restart_at is None:
                pause = RESTART_PAUSES_S[min(child.deaths_in_a_row, len(RESTART_PAUSES_S) - 1)]
                log.error("%s (pid %s) exited with %s; starting it again in %.1f s (log: %s)", child.name,
                          child.process.pid, child.process.returncode, pause, child.log_path)
                child.restart_at = now + pause
                child.deaths_in_a_row += 1
            if now >= child.restart_at:
                child.process = self._popen(child.name, child.command, child.env)
                child.started_at, child.restart_at = now, None
                child.restarts += 1
                started.append(child.name)
        return started

    async def supervise(self, every_s: float = 0.5) -> None:
        """Keep every child running until cancelled (``make run``, the fault bench)."""
        while True:
            await asyncio.sleep(every_s)
            self.restart_dead()

    def start_redis_if_needed(self) -> None:
        url = self.settings.redis_url
        try:
            check_redis(url)
            return
        except StackError as error:
            problem = error
        parsed = urlparse(url)
        # Only a plain local Redis that is not there is started here: a password or TLS means a server set up on
        # purpose, and one that answers with an error (a wrong password) is not to be shadowed.
        if parsed.hostname not in {"127.0.0.1", "localhost"} or uses_tls(url) or has_password(url) \
                or "does not answer" not in str(problem):
            raise problem
        binary = shutil.which("redis-server")
        if binary is None:
            raise StackError("redis-server is not installed (apt-get install redis-server), or set REDIS_URL")
        port = parsed.port or 6379
        if self.scratch_redis:
            persistence = ["--dir", tempfile.mkdtemp(prefix="kefu-scratch-redis-"),
                           "--appendonly", "yes" if self.scratch_aof else "no", "--save", ""]
        else:
            data_dir = STATE_DIR / "redis"
            data_dir.mkdir(parents=True, exist_ok=True)
            persistence = ["--dir", str(data_dir), "--appendonly", "yes", "--save", "60 1"]
        self._spawn("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", *persistence], os.environ.copy())
        if not wait_for_port(port, 10):
            raise StackError(f"redis-server did not start; see {self.log_dir / 'redis.log'}")

    def start(self) -> None:
        """Start everything and wait until Rasa has loaded its model."""
        self.start_redis_if_needed()
        # Rasa's tracker and lock stores read REDIS_URL too (endpoints.yml): one URL, password and TLS included;
        # like the token it travels in the environment, never on a command line.
        env = os.environ | {
            "REDIS_URL": self.settings.redis_url,
            "KEFU_RASA_TOKEN": self.settings.rasa_token,
            "KEFU_ACTIONS_PORT": str(self.settings.actions_port),
        }
        actions = self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                                          "--port", str(self.settings.actions_port)], env,
                              self.settings.background_nice)
        env["KEFU_RASA_MAX_EVENTS"] = str(self.settings.dialogue.rasa_max_events)
        rasa = [self._spawn(f"rasa-{index}" if index else "rasa", [
            # Rasa's own HTTP API stays off: Kefu's channel serves what Kefu needs, its token in the environment.
            str(RASA_BIN), "run", "-i", "127.0.0.1", "-p", str(urlparse(url).port), "--model", str(self.model),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        ], rasa_env() | env, self.settings.background_nice) for index, url in enumerate(self.settings.rasa_urls)]
        if not wait_for_port(self.settings.actions_port, 60, actions):
            raise StackError(f"the action server did not start; see {self.log_dir / 'actions.log'}")
        for index, (process, url) in enumerate(zip(rasa, self.settings.rasa_urls, strict=True)):
            if not wait_for_port(urlparse(url).port or 5005, 300, process):
                log_name = f"rasa-{index}.log" if index else "rasa.log"
                raise StackError(f"Rasa ({url}) did not start; see {self.log_dir / log_name}")

    async def wait_ready(self, timeout_s: float = 300) -> None:
        """Rasa opens its port before the model is loaded; wait for every process's /status to name a model."""
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            for url in self.settings.rasa_urls:
                client = RasaClient(session, url, self.settings.rasa_token)
                while not await client.is_ready():
                    if time.monotonic() > deadline:
                        raise StackError(f"Rasa at {url} did not load its model; see {self.log_dir}")
                    await asyncio.sleep(0.5)

    def stop(self) -> None:
        for child in reversed(self.children):
            process = child.process
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.info("stopped %s", child.name)
        self.children.clear()
