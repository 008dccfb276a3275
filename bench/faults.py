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
- live: of the answers, the share that reached the customer's open socket (not only the history on reconnect);
- order actions: a quarter of the customers are signed-in demo customers, each with a fresh cancellable order
  seeded for the phase, who ask to cancel it, wait for the bot's question and confirm with a typed "yes". The
  demo backend records every operation it executes (``kefu.orders.demo.operations_done``; a replay answered from
  the stored result is not executed again), so "done" is confirmed cancels that happened and "dup order actions"
  is every executed operation beyond one per (order, kind) a customer confirmed.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import os
import secrets
import signal
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import aiohttp
import redis.asyncio as aioredis
import uvloop

from bench.webchat import QUESTIONS
from kefu.config.settings import Settings
from kefu.orders.base import Order

if TYPE_CHECKING:
    from collections.abc import Iterable

CUSTOMERS = 20
PHASE_S = 25.0
KILL_AT_S = 5.0
PACE_S = 1.0
DRAIN_S = 90.0
FAULTS = ("gateway", "worker", "rasa", "actions", "redis")
TARGET_RECOVERY_S = 15.0
SHOPPER_EVERY = 4  # every fourth customer is signed in and cancels an order
FIRST_ORDER_TURN = 2  # the first shopper asks on its third message, the next ones a turn later each (near the kill)
CANCEL = {"en": ("please cancel my order {order_id}", "yes"), "zh": ("帮我把订单{order_id}取消掉", "确认")}


@dataclasses.dataclass
class Shopper:
    """A signed-in customer's one order operation in a phase: at turn ``at`` ask to cancel ``order_id``, then,
    once the bot has answered that request (its question), confirm: with its "yes" button as the widget sends a
    tap (``tap``) or by typing yes."""

    hello: dict[str, Any]  # customer_id, issued_at, signature: as the shop's page gives the widget
    order_id: str
    lang: str
    at: int
    tap: bool = False
    request: str | None = None  # the cancel request's message id
    answered: bool = False  # a bot reply to the request arrived (live or in the history on reconnect)
    button: dict[str, str] | None = None  # the question's affirm button (its payload names the question)
    confirm: str | None = None  # the confirmation's message id

    def next_message(self, turn: int) -> dict[str, str] | None:
        """The shopper's own next message's fields, {} for a routine question, None to wait for the question."""
        ask, yes = CANCEL[self.lang]
        if self.request is None:
            return {"text": ask.format(order_id=self.order_id)} if turn >= self.at else {}
        if self.confirm is None:
            if not self.answered:
                return None
            if self.tap and self.button:
                return {"text": self.button["title"], "payload": self.button["payload"]}
            return {"text": yes}
        return {}

    def sent(self, message_id: str) -> None:
        if self.request is None:
            self.request = message_id
        elif self.confirm is None and self.answered:
            self.confirm = message_id

    def seen(self, entry: dict[str, Any]) -> None:
        """A reply id is ``<message id>.<n>``, and the web chat stores a message as ``<conversation>:<client id>``:
        the bot answered the request when a reply's id starts with that."""
        answer = f"cust:{self.hello['customer_id']}:{self.request}."
        if self.request and entry.get("role") == "bot" and str(entry.get("id", "")).startswith(answer):
            # Only the confirmation question (it offers a yes button) is something to confirm: an answer that
            # is not one (the dialogue was still in another flow) leaves the cancel unconfirmed, not asked.
            affirm = [b for b in entry.get("buttons") or [] if str(b.get("payload", "")).startswith("/affirm")]
            if affirm and self.order_id in str(entry.get("text", "")):
                self.answered, self.button = True, self.button or affirm[0]


# -- customers (run in their own process) --------------------------------------------------------------------

async def _customer(session: aiohttp.ClientSession, origin: str, index: int, stop_at: float,
                    tally: dict[str, Any], shopper: Shopper | None = None) -> None:
    """Write a question every PACE_S seconds; on a dropped socket or "unavailable", reconnect and resend.

    A shopper writes routine questions too, except for its cancel request and confirmation (and it writes
    nothing while it waits for the bot's question in between)."""
    visitor = uuid.uuid4().hex
    hello = {"type": "hello", "visitor_id": visitor} | (shopper.hello if shopper else {})
    tally["conversations"].append(f"cust:{shopper.hello['customer_id']}" if shopper else f"visitor:{visitor}")
    turn = 0
    pending: str | None = None  # a message id not yet acknowledged
    while time.monotonic() < stop_at or pending:
        try:
            async with session.ws_connect(f"{origin}/ws/chat", headers={"Origin": origin}, heartbeat=5) as socket:
                await socket.send_str(json.dumps(hello))
                welcome = await socket.receive_json(timeout=10)
                if welcome.get("type") != "welcome":
                    raise ConnectionError(str(welcome))
                if shopper:
                    for entry in welcome.get("history") or []:
                        shopper.seen(entry)
                while time.monotonic() < stop_at or pending:
                    if pending is None:
                        own = shopper.next_message(turn) if shopper else {}
                        if own is not None:
                            pending = uuid.uuid4().hex
                            fields = own or {"text": QUESTIONS[(index + turn) % len(QUESTIONS)]}
                            if own and shopper:
                                shopper.sent(pending)
                            turn += 1
                    if pending is not None:
                        await socket.send_str(json.dumps({"type": "message", "id": pending} | fields))
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
                            if shopper:
                                shopper.seen(frame)
                        elif frame.get("type") == "ack" and frame.get("id") == pending:
                            tally["acked"] += 1
                            if shopper and pending == shopper.confirm:
                                tally["orders_asked"].append([shopper.order_id, "cancel"])
                            pending = None
                        elif frame.get("type") == "error" and frame.get("id") == pending:
                            await asyncio.sleep(0.5)
                            break  # unavailable: send the same id again
        except (aiohttp.ClientError, ConnectionError, TimeoutError, OSError, TypeError, ValueError):
            tally["reconnects"] += 1
            await asyncio.sleep(0.5)


def write(origin: str, seconds: float, shoppers: dict[int, Shopper] | None = None) -> dict[str, Any]:
    """CUSTOMERS customers writing for ``seconds`` (``shoppers`` by customer index); what they counted themselves."""
    shoppers = shoppers or {}

    async def main() -> dict[str, Any]:
        tally: dict[str, Any] = {"conversations": [], "acked": 0, "live": 0, "reconnects": 0, "orders_asked": []}
        stop_at = time.monotonic() + seconds
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(_customer(session, origin, index, stop_at, tally, shoppers.get(index))
                                   for index in range(CUSTOMERS)))
        return tally

    return uvloop.run(main())


# -- the shoppers' orders ------------------------------------------------------------------------------------

async def seed_shoppers(redis: aioredis.Redis, secret: str) -> dict[int, Shopper]:
    """A fresh signed-in customer with one paid (so cancellable) order for every SHOPPER_EVERY-th customer,
    written as the demo backend keeps them (kefu/orders/demo.py), and signed as the shop's page would."""
    from datetime import UTC, datetime, timedelta

    from kefu.core.identity import sign_customer
    from kefu.orders.demo import ADDRESSES, KETTLE, customer_key, customer_orders_key, order_key

    now = datetime.now(UTC)
    shoppers: dict[int, Shopper] = {}
    async with redis.pipeline(transaction=True) as pipe:
        for number, index in enumerate(range(0, CUSTOMERS, SHOPPER_EVERY)):
            customer_id, lang = f"bench-{uuid.uuid4().hex[:12]}", ("en", "zh")[number % 2]
            phone = f"139{secrets.randbelow(10**8):08d}"
            order = Order(id=f"DD9{secrets.randbelow(10**10):010d}", customer_id=customer_id, phone=phone,
                          status="paid", created_at=now - timedelta(hours=1), address=ADDRESSES["c1002"],
                          total=KETTLE.price, items=(KETTLE,), paid_at=now - timedelta(hours=1),
                          promised_by=now + timedelta(days=3))
            profile = {"id": customer_id, "name": f"Bench {number}", "phone": phone, "lang": lang}
            pipe.set(customer_key(customer_id), json.dumps(profile))
            pipe.set(order_key(order.id), json.dumps(order.to_dict(), ensure_ascii=False))
            pipe.zadd(customer_orders_key(customer_id), {order.id: order.created_at.timestamp()})
            shoppers[index] = Shopper(hello=sign_customer(customer_id, secret).hello_fields(), order_id=order.id,
                                      lang=lang, at=FIRST_ORDER_TURN + number, tap=number // 2 % 2 == 0)
        await pipe.execute()
    return shoppers


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


def count_order_actions(asked: Iterable[tuple[str, str]], done: Iterable[dict[str, str]],
                        orders: set[str]) -> dict[str, int]:
    """Confirmed order operations against those the backend executed (``done``: its record), for ``orders``.

    ``orders_done``: confirmed (order, kind) pairs executed at least once; ``order_duplicates``: executions
    beyond one per confirmed pair, plus any execution on these orders that no customer confirmed."""
    wanted = {(order_id.upper(), kind) for order_id, kind in asked}
    executed: dict[tuple[str, str], int] = {}
    for operation in done:
        if operation["order_id"] in orders:
            pair = (operation["order_id"], operation["operation"])
            executed[pair] = executed.get(pair, 0) + 1
    return {"orders_asked": len(wanted), "orders_done": sum(1 for pair in wanted if pair in executed),
            "order_duplicates": sum(count - (pair in wanted) for pair, count in executed.items())}


async def judge_orders(redis: aioredis.Redis, asked: Iterable[tuple[str, str]], orders: set[str]) -> dict[str, int]:
    """The order operations of one phase, from the demo backend's record of what it executed."""
    from kefu.orders.demo import operations_done

    return count_order_actions(asked, await operations_done(redis), orders)


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
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        shoppers = await seed_shoppers(redis, settings.identity_secret)
    finally:
        await redis.aclose()
    writing = loop.run_in_executor(pool, write, settings.public_origin, PHASE_S, shoppers)
    await asyncio.sleep(KILL_AT_S)
    killed_at = time.monotonic()
    pid = kill()
    recovery_s = await _answered_again(settings.public_origin, killed_at)
    tally = await writing
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        await _drained(redis, settings)
        counts = await judge(redis, tally["conversations"])
        counts |= await judge_orders(redis, [tuple(pair) for pair in tally["orders_asked"]],
                                     {shopper.order_id for shopper in shoppers.values()})
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
            f"{'live':>6} {'reconnects':>10} {'recovery s':>10} {'order actions':>13} {'dup order actions':>17}")
    lines = [head]
    for name, r in results.items():
        lost = r["unanswered"] + max(0, r["acked"] - r["messages"])  # unanswered, or never in the transcript
        live = f"{100 * r['live'] / r['answered']:.0f}%" if r["answered"] else "-"
        lines.append(f"{name:9} {r['messages']:>5} {r['acked']:>6} {r['answered']:>8} {lost:>5} "
                     f"{r['duplicates']:>11} {live:>6} {r['reconnects']:>10} {r['recovery_s']:>10.1f} "
                     f"{r['orders_done']:>6}/{r['orders_asked']:<6} {r['order_duplicates']:>17}")
    lines.append(f"targets: 0 lost, 0 duplicate replies, 0 duplicate order actions, recovery <= "
                 f"{TARGET_RECOVERY_S:.0f} s; order actions: confirmed cancels done / confirmed")
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
                 or r["recovery_s"] > TARGET_RECOVERY_S or r["order_duplicates"] for r in results.values())
    return 1 if failed else 0
