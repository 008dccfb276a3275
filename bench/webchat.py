"""``python -m bench webchat``: Kefu's web chat against stock Rasa on the same model, side by side in one run.

Starts the stack as ``make run`` lays it out (a scratch Redis, the action server, ``KEFU_RASA_PROCESSES`` Rasa
processes, ``KEFU_GATEWAYS`` gateways and ``KEFU_PIPELINE_WORKERS`` workers) and, beside it, one stock
``rasa run`` with the REST channel and Rasa's in-memory tracker and lock stores, the same model and the same
action server. The load comes from another process (its CPU is not the servers'), over real websockets and
HTTP, and the two are driven in turn, scenario by scenario, so both see the same machine:

- closed loop: 1, 10 and 50 conversations, each sending its next message as soon as the answer came;
- human pace: 50 conversations, each writing every 4 to 6 seconds;
- one long conversation of 500 turns: does a turn cost more as the conversation grows?

Each turn is a routine question that both answer with one message (checked before measuring); a reply's
latency runs from sending the message to receiving the answer (on web chat: the message frame).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench.stats import percentile
from kefu.config.settings import Settings

# Routine questions with one answer each, taken in turn (the same one again and again would be offered a
# person as a customer who seems stuck).
QUESTIONS = ("运费怎么算", "how long does delivery take", "怎么申请退货", "which payment methods do you take",
             "发票怎么开", "what is your return policy", "支持花呗吗", "do you ship to Hong Kong",
             "你们的退换货政策是什么", "how much is shipping")
REPLY_TIMEOUT_S = 60.0


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    conversations: int
    seconds: float = 0.0  # closed loop and human pace run this long (after a warm-up)
    turns: int = 0  # the long conversation runs this many turns
    pace_s: tuple[float, float] | None = None  # human pace: the pause between one conversation's messages
    warm_up_s: float = 3.0


def scenarios(scale: float) -> list[Scenario]:
    return [
        Scenario("closed loop, 1 conversation", 1, seconds=15 * scale),
        Scenario("closed loop, 10 conversations", 10, seconds=20 * scale),
        Scenario("closed loop, 50 conversations", 50, seconds=25 * scale),
        Scenario("human pace, 50 conversations", 50, seconds=60 * scale, pace_s=(4.0, 6.0), warm_up_s=6.0),
        Scenario("one conversation, 500 turns", 1, turns=max(100, int(500 * scale)), warm_up_s=0.0),
    ]


# -- the load generator (runs in its own process) ------------------------------------------------------------

Ask = Callable[[str], Awaitable[int]]


@contextlib.asynccontextmanager
async def kefu_conversation(session: aiohttp.ClientSession, origin: str) -> AsyncIterator[Ask]:
    """A web-chat customer: ``ask`` sends a message and waits for the answer's frame; returns its frame count."""
    async with session.ws_connect(f"{origin}/ws/chat", headers={"Origin": origin}) as socket:
        await socket.send_str(json.dumps({"type": "hello", "visitor_id": uuid.uuid4().hex}))
        welcome = await socket.receive_json(timeout=REPLY_TIMEOUT_S)
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"web chat refused the bench: {welcome}")

        async def ask(text: str) -> int:
            await socket.send_str(json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": text}))
            while True:
                frame = await socket.receive_json(timeout=REPLY_TIMEOUT_S)
                if frame.get("type") == "message":
                    return 1
                if frame.get("type") == "error":
                    raise RuntimeError(f"web chat refused a message: {frame}")

        yield ask


@contextlib.asynccontextmanager
async def rasa_conversation(session: aiohttp.ClientSession, url: str) -> AsyncIterator[Ask]:
    """A customer of stock Rasa's REST channel: one POST per turn, the answers in its response."""
    sender = uuid.uuid4().hex

    async def ask(text: str) -> int:
        async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT_S)) as response:
            response.raise_for_status()
            return len(await response.json())

    yield ask


def drive(kind: str, url: str, scenario: Scenario) -> dict[str, Any]:
    """Play one scenario against one server; latencies in ms (after the warm-up) and what went wrong."""

    async def main() -> dict[str, Any]:
        opened = kefu_conversation if kind == "kefu" else rasa_conversation
        latencies: list[tuple[float, float]] = []  # (when sent, ms)
        errors: list[str] = []
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            started = time.perf_counter()
            measure_from = started + scenario.warm_up_s
            stop_at = measure_from + scenario.seconds

            async def customer(index: int) -> None:
                rng = random.Random(index)
                async with opened(session, url) as ask:
                    if scenario.pace_s:  # people do not all start writing in the same second
                        await asyncio.sleep(rng.uniform(0, scenario.pace_s[1]))
                    turn = 0
                    while (turn < scenario.turns) if scenario.turns else (time.perf_counter() < stop_at):
                        text = QUESTIONS[(index + turn) % len(QUESTIONS)]
                        sent = time.perf_counter()
                        try:
                            await ask(text)
                        except (RuntimeError, aiohttp.ClientError, TimeoutError) as error:
                            errors.append(repr(error)[:200])
                            return
                        latencies.append((sent, (time.perf_counter() - sent) * 1000))
                        turn += 1
                        if scenario.pace_s:
                            await asyncio.sleep(rng.uniform(*scenario.pace_s))

            await asyncio.gather(*(customer(index) for index in range(scenario.conversations)))
            ended = time.perf_counter()
        if scenario.turns:
            measured = [ms for _, ms in latencies]
            window = ended - started
        else:
            measured = [ms for sent, ms in latencies if measure_from <= sent < stop_at]
            window = scenario.seconds
        return {"latencies": measured, "in_order": [ms for _, ms in latencies], "window_s": window,
                "errors": errors}

    return uvloop.run(main())


def check_questions(kind: str, url: str) -> dict[str, int]:
    """How many messages each question's answer has (one conversation, each question twice)."""

    async def main() -> dict[str, int]:
        counts: dict[str, int] = {}
        async with aiohttp.ClientSession() as session:
            if kind == "kefu":
                async with session.ws_connect(f"{url}/ws/chat", headers={"Origin": url}) as socket:
                    await socket.send_str(json.dumps({"type": "hello", "visitor_id": uuid.uuid4().hex}))
                    await socket.receive_json(timeout=REPLY_TIMEOUT_S)
                    for text in QUESTIONS * 2:
                        await socket.send_str(json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": text}))
                        frames = 0
                        deadline = time.monotonic() + 15
                        with contextlib.suppress(TimeoutError):
                            while time.monotonic() < deadline:
                                frame = await socket.receive_json(timeout=1.5 if frames else 15)
                                frames += frame.get("type") == "message"
                        counts[text] = max(counts.get(text, 0), frames)
            else:
                async with rasa_conversation(session, url) as ask:
                    for text in QUESTIONS * 2:
                        counts[text] = max(counts.get(text, 0), await ask(text))
        return counts

    return uvloop.run(main())


# -- the servers ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def stock_rasa(settings: Settings, model: Path, log_dir: Path) -> Any:
    """``rasa run`` as its documentation sets it up: the REST channel, in-memory stores, the same model and
    action server as Kefu's."""
    import subprocess

    from kefu.ops.model import RASA_BIN, rasa_env
    from kefu.ops.stack import free_port, wait_for_port

    config = Path(tempfile.mkdtemp(prefix="kefu-bench-rasa-"))
    (config / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    (config / "endpoints.yml").write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{settings.actions_port}/webhook\n", encoding="utf-8")
    port = free_port()
    log_file = open(log_dir / "stock-rasa.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [str(RASA_BIN), "run", "-i", "127.0.0.1", "-p", str(port), "--model", str(model),
         "--endpoints", str(config / "endpoints.yml"), "--credentials", str(config / "credentials.yml")],
        cwd=settings.project_root, env=rasa_env() | os.environ, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        if not wait_for_port(port, 300, process):
            raise RuntimeError(f"stock Rasa did not start; see {log_dir / 'stock-rasa.log'}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log_file.close()


async def _wait_answering(pool: ProcessPoolExecutor, kind: str, url: str) -> None:
    """Rasa opens its port before its model is loaded: ask until the first answer comes."""
    deadline = time.monotonic() + 300
    loop = asyncio.get_running_loop()
    while True:
        result = await loop.run_in_executor(pool, drive, kind, url, Scenario("ready", 1, turns=1, warm_up_s=0))
        if result["latencies"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind} at {url} does not answer: {result['errors']}")
        await asyncio.sleep(2)


# -- the run and its table -----------------------------------------------------------------------------------

def summary(result: dict[str, Any]) -> dict[str, float]:
    values = result["latencies"]
    if not values:
        return {"turns": 0, "rate": 0.0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                "errors": len(result["errors"])}
    return {"turns": len(values), "rate": len(values) / result["window_s"], "p50": percentile(values, 0.5),
            "p95": percentile(values, 0.95), "p99": percentile(values, 0.99), "errors": len(result["errors"])}


def long_conversation(result: dict[str, Any]) -> tuple[float, float]:
    """Median of the first and of the last 50 turns (ms)."""
    in_order = result["in_order"]
    return statistics.median(in_order[:50]), statistics.median(in_order[-50:])


def report(rows: list[tuple[Scenario, dict[str, Any], dict[str, Any]]]) -> str:
    lines = [(f"{'scenario':32} {'server':6} {'turns':>6} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6}  Kefu / Rasa")]
    for scenario, kefu, rasa in rows:
        k, r = summary(kefu), summary(rasa)
        for label, s in (("kefu", k), ("rasa", r)):
            ratio = ""
            if label == "kefu" and r["rate"] and r["turns"]:
                ratio = f"throughput x{k['rate'] / r['rate']:.2f}, p99 x{k['p99'] / r['p99']:.2f}"
            lines.append(f"{scenario.name if label == 'kefu' else '':32} {label:6} {s['turns']:>6} {s['rate']:>7.1f} "
                         f"{s['p50']:>8.0f} {s['p95']:>8.0f} {s['p99']:>8.0f} {s['errors']:>6}  {ratio}".rstrip())
        if scenario.turns:
            for label, result in (("kefu", kefu), ("rasa", rasa)):
                if len(result["in_order"]) >= 100:
                    first, last = long_conversation(result)
                    lines.append(f"{'':32} {label:6} median of turns 1-50: {first:.0f} ms, last 50: {last:.0f} ms "
                                 f"(x{last / first:.2f}; target <= x1.25 for Kefu)")
    return "\n".join(lines)


async def _measure(settings: Settings, scale: float) -> list[tuple[Scenario, dict[str, Any], dict[str, Any]]]:
    from kefu.app.server import serving_gateway
    from kefu.ops.model import train
    from kefu.ops.processes import running_processes
    from kefu.ops.stack import STATE_DIR

    log_dir = STATE_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    rows = []
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool, \
            stock_rasa(settings, train(), log_dir) as rasa_url:
        async with serving_gateway(settings), running_processes(settings):
            kefu_url = settings.public_origin
            await _wait_answering(pool, "kefu", kefu_url)
            await _wait_answering(pool, "rasa", rasa_url)
            answers = {kind: await loop.run_in_executor(pool, check_questions, kind, url)
                       for kind, url in (("kefu", kefu_url), ("rasa", rasa_url))}
            several = {text: (answers["kefu"][text], answers["rasa"][text]) for text in QUESTIONS
                       if answers["kefu"][text] != 1 or answers["rasa"][text] != 1}
            if several:
                raise RuntimeError(f"questions answered with other than one message (kefu, rasa): {several}")
            for scenario in scenarios(scale):
                print(f"[bench] {scenario.name} ...", flush=True)
                kefu = await loop.run_in_executor(pool, drive, "kefu", kefu_url, scenario)
                rasa = await loop.run_in_executor(pool, drive, "rasa", rasa_url, scenario)
                rows.append((scenario, kefu, rasa))
    return rows


def run(argv: list[str] | None = None) -> int:
    from kefu.app import eventloop
    from kefu.ops.runtime import on_free_ports, running_stack, settings_from_env

    parser = argparse.ArgumentParser(prog="python -m bench webchat")
    parser.add_argument("--scale", type=float, default=1.0, help="shorter (<1) or longer (>1) runs")
    args = parser.parse_args(argv)
    from kefu.config.webchat import WebChatSettings

    # Every bench customer comes from 127.0.0.1: the per-address limits would refuse all but the first few.
    settings = dataclasses.replace(on_free_ports(settings_from_env()), webchat=WebChatSettings.without_limits())

    async def play() -> list[tuple[Scenario, dict[str, Any], dict[str, Any]]]:
        async with running_stack(settings, scratch=True):
            return await _measure(settings, args.scale)

    rows = eventloop.run(play())
    print(f"\nKefu: {settings.gateways} gateway(s), {settings.pipeline_workers} worker(s), "
          f"{settings.dialogue.rasa_processes} Rasa process(es); stock Rasa: 1 process. {os.cpu_count()} cores.")
    print(report(rows))
    return 0
