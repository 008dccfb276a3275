"""``python -m bench faults``: customers keep writing while, in turn, each process is killed with SIGKILL.

Starts the stack as ``make run`` lays it out (its Redis keeps an append-only file, so it comes back with its
data), then for each fault a fresh set of web-chat customers writes a routine question every second for
``PHASE_S`` seconds while, ``KILL_AT_S`` seconds in, one process is killed: an extra gateway, the pipeline
worker, Rasa, the action server, Redis. Nothing restarts them but Kefu's own supervision. A customer whose socket
drops, or whose message is refused as "unavailable", reconnects and sends the same message again (same id), as
the widget does. Afterwards the transcript in Redis is the judge:

- lost: a message the gateway acknowledged that has no answer (or never reached the transcript);
- duplicate replies: a message answered more than once;
- recovery: seconds from the kill until a fresh customer's message is answered again;
- live: of the answers, the share that reached the customer's open socket (not only the history on reconnect).
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import os
import signal
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import aiohttp
import redis.asyncio as aioredis
import uvloop

from bench.webchat import QUESTIONS
from kefu.config.settings import Settings

CUSTOMERS = 20
PHASE_S = 25.0
KILL_AT_S = 5.0
PACE_S = 1.0
DRAIN_S = 90.0
FAULTS = ("gateway", "worker", "rasa", "actions", "redis")
TARGET_RECOVERY_S = 15.0


# -- customers (run in their own process) --------------------------------------------------------------------

async def _customer(session: aiohttp.ClientSession, origin: str, index: int, stop_at: float,
                    tally: dict[str, Any]) -> None:
    """Write a question every PACE_S seconds; on a dropped socket or "unavailable", reconnect and resend."""
    visitor = uuid.uuid4().hex
    tally["conversations"].append(f"visitor:{visitor}")
    turn = 0
    pending: str | None = None  # a message id not yet acknowledged
    while time.monotonic() < stop_at or pending:
        try:
            async with session.ws_connect(f"{origin}/ws/chat", headers={"Origin": origin}, heartbeat=5) as socket:
                await socket.send_str(json.dumps({"type": "hello", "visitor_id": visitor}))
                welcome = await socket.receive_json(timeout=10)
                if welcome.get("type") != "welcome":
                    raise ConnectionError(str(welcome))
                while time.monotonic() < stop_at or pending:
                    if pending is None:
                        pending = uuid.uuid4().hex
                        text = QUESTIONS[(index + turn) % len(QUESTIONS)]
                        turn += 1
                    await socket.send_str(json.dumps({"type": "message", "id": pending, "text": text}))
                    deadline = time.monotonic() + PACE_S
                    while time.monotonic() < deadline or pending:
                        try:
                            frame = await socket.receive_json(timeout=max(0.05, deadline - time.monotonic()))
                        except TimeoutError:
                            if pending:
                                break  # no ack yet: send the same id again
                            continue
                        if frame.get("type") == "message" and frame.get("role") == "bot":
                            tally["live"] += 1
                        elif frame.get("type") == "ack" and frame.get("id") == pending:
                            tally["acked"] += 1
                            pending = None
                        elif frame.get("type") == "error" and frame.get("id") == pending:
                            await asyncio.sleep(0.5)
                            break  # unavailable: send the same id again
        except (aiohttp.ClientError, ConnectionError, TimeoutError, OSError, TypeError, ValueError):
            tally["reconnects"] += 1
            await asyncio.sleep(0.5)


def write(origin: str, seconds: float) -> dict[str, Any]:
    """CUSTOMERS customers writing for ``seconds``; what they counted themselves."""

    async def main() -> dict[str, Any]:
        tally: dict[str, Any] = {"conversations": [], "acked": 0, "live": 0, "reconnects": 0}
        stop_at = time.monotonic() + seconds
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(_customer(session, origin, index, stop_at, tally) for index in range(CUSTOMERS)))
        return tally

    return uvloop.run(main())


# -- the judge -----------------------------------------------------------------------------------------------

async def judge(redis: aioredis.Redis, conversations: list[str]) -> dict[str, int]:
    """Customer messages in the transcripts against the bot's answers, matched by what each reply answers.

    Every bot reply names the message it answers (``reply_to``) and has an id fixed by that message and its
    place in the turn, so: a message with no reply is unanswered; a reply id stored twice is a duplicate reply
    (the same answer delivered again). Messages the customer sent again with the same id count once.
    """
    from kefu.core import keys

    counts = {"messages": 0, "answered": 0, "unanswered": 0, "duplicates": 0}
    for conversation in conversations:
        entries = [json.loads(raw) for raw in await redis.lrange(keys.transcript(conversation), 0, -1)]
        asked = [entry["id"] for entry in entries if entry["role"] == "customer"]
        replies = [entry for entry in entries if entry["role"] == "bot"]
        ids = [reply["id"] for reply in replies]
        answered = {reply.get("reply_to") for reply in replies}
        counts["messages"] += len(asked)
        counts["answered"] += sum(1 for message in asked if message in answered)
        counts["unanswered"] += sum(1 for message in asked if message not in answered)
        counts["duplicates"] += len(ids) - len(set(ids))
    return counts


async def _answered_again(origin: str, since: float) -> float:
    """Seconds from ``since`` until a fresh customer's question is answered (probing every half second)."""
    deadline = since + 120
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.ws_connect(f"{origin}/ws/chat", headers={"Origin": origin}) as socket:
                    await socket.send_str(json.dumps({"type": "hello", "visitor_id": uuid.uuid4().hex}))
                    await socket.receive_json(timeout=3)
                    await socket.send_str(json.dumps({"type": "message", "id": uuid.uuid4().hex,
                                                      "text": QUESTIONS[0]}))
                    while True:
                        frame = await socket.receive_json(timeout=3)
                        if frame.get("type") == "message" and frame.get("role") == "bot":
                            return time.monotonic() - since
                        if frame.get("type") == "error":
                            break
            except (aiohttp.ClientError, TimeoutError, OSError, TypeError, ValueError):
                pass
            await asyncio.sleep(0.5)
    return float("inf")


async def _drained(redis: aioredis.Redis, settings: Settings) -> None:
    from kefu.core import keys

    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline:
        try:
            queued = [await redis.xlen(keys.inbox_stream(shard)) for shard in range(settings.shards)]
            # Messages parked with a bot_unavailable ticket go back to the inbox once Rasa answers again.
            if not any(queued) and not await redis.scard(keys.OUTAGE_PARKED):
                await asyncio.sleep(3)  # the last answers are being delivered
                return
        except (aioredis.ConnectionError, aioredis.TimeoutError):
            pass
        await asyncio.sleep(1)


# -- the run -------------------------------------------------------------------------------------------------

async def _phase(settings: Settings, pool: ProcessPoolExecutor, kill: Callable[[], int]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    writing = loop.run_in_executor(pool, write, settings.public_origin, PHASE_S)
    await asyncio.sleep(KILL_AT_S)
    killed_at = time.monotonic()
    pid = kill()
    recovery_s = await _answered_again(settings.public_origin, killed_at)
    tally = await writing
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        await _drained(redis, settings)
        counts = await judge(redis, tally["conversations"])
    finally:
        await redis.aclose()
    return {"pid": pid, "recovery_s": recovery_s, "acked": tally["acked"], "live": tally["live"],
            "reconnects": tally["reconnects"]} | counts


def _killer(name: str, stack: Any, groups: list[Any]) -> Callable[[], int]:
    def kill() -> int:
        if name in {"gateway", "worker"}:
            group = next(g for g in groups if g.role == name)
            pid = group.pids[0]
        else:
            pid = next(child.process.pid for child in stack.children if child.name == name)
        os.kill(pid, signal.SIGKILL)
        return pid

    return kill


def report(results: dict[str, dict[str, Any]]) -> str:
    head = (f"{'killed':9} {'sent':>5} {'acked':>6} {'answered':>8} {'lost':>5} {'dup replies':>11} "
            f"{'live':>6} {'reconnects':>10} {'recovery s':>10}")
    lines = [head]
    for name, r in results.items():
        lost = r["unanswered"] + max(0, r["acked"] - r["messages"])  # unanswered, or never in the transcript
        live = f"{100 * r['live'] / r['answered']:.0f}%" if r["answered"] else "-"
        lines.append(f"{name:9} {r['messages']:>5} {r['acked']:>6} {r['answered']:>8} {lost:>5} "
                     f"{r['duplicates']:>11} {live:>6} {r['reconnects']:>10} {r['recovery_s']:>10.1f}")
    lines.append(f"targets: 0 lost, 0 duplicate replies, recovery <= {TARGET_RECOVERY_S:.0f} s")
    return "\n".join(lines)


def run(faults: tuple[str, ...] = FAULTS) -> int:
    from kefu.app import eventloop
    from kefu.app.server import serving_gateway
    from kefu.config.webchat import WebChatSettings
    from kefu.ops.processes import running_processes
    from kefu.ops.runtime import on_free_ports, running_stack, settings_from_env

    # Every bench customer comes from 127.0.0.1: the per-address limits would refuse most of them.
    settings = on_free_ports(settings_from_env())
    settings = dataclasses.replace(settings, webchat=WebChatSettings.without_limits(), gateways=max(2, settings.gateways))

    async def play() -> dict[str, dict[str, Any]]:
        results = {}
        async with running_stack(settings, scratch=True, aof=True) as stack, serving_gateway(settings), \
                running_processes(settings) as groups:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                await _answered_again(settings.public_origin, time.monotonic())  # warm
                for name in faults:
                    print(f"[bench] killing {name} under load ...", flush=True)
                    results[name] = await _phase(settings, pool, _killer(name, stack, groups))
        return results

    results = eventloop.run(play())
    print(report(results))
    failed = any(r["unanswered"] or r["acked"] > r["messages"] or r["duplicates"]
                 or r["recovery_s"] > TARGET_RECOVERY_S for r in results.values())
    return 1 if failed else 0
