"""``python -m bench fuzz``: 10,000 malformed, forged and random inputs against a running stack.

The stack runs as ``make run`` lays it out, with WeChat and Telegram configured (their servers are the loopback
fakes in fakes/). Inputs, from a seeded generator: web-chat websocket frames (garbage, wrong types, huge or empty
texts, binary, frames before hello), WeChat pushes (forged signatures, broken or hostile XML, stale timestamps,
mangled ciphertext), Telegram updates (wrong secret, random JSON, mutated real updates), and every console route
(found in the gateway's own route table) with random paths, methods and bodies, signed in and not. Meanwhile a
real customer asks routine questions over web chat. Pass: no 5xx, no process died, /healthz answers, and every
one of the customer's questions was answered.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import re
import secrets
import string
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bench.webchat import QUESTIONS
from kefu.config.settings import Settings

TOTAL = 10_000
SHARES = {"webchat": 0.3, "wechat": 0.25, "telegram": 0.2, "console": 0.25}
CONCURRENCY = 16
CUSTOMER_EVERY_S = 4.0
CUSTOMER_ADDRESS = "127.0.0.2"


def junk(rng: random.Random, limit: int = 64) -> str:
    alphabet = string.printable + "中文客服退款订单\u0000\u202e\ud7ff😀<>&\"'"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, limit)))


def junk_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randint(0, 7 if depth < 3 else 4)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**63, 1.5, float(rng.randint(-9, 9))])
    if choice in (3, 4):
        return junk(rng)
    if choice == 5:
        return [junk_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {junk(rng, 12): junk_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


# -- web chat ------------------------------------------------------------------------------------------------

def webchat_frame(rng: random.Random) -> str | bytes:
    kind = rng.randint(0, 9)
    if kind == 0:
        return junk(rng, 200)
    if kind == 1:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    if kind == 2:
        return json.dumps(junk_json(rng))
    if kind == 3:
        return json.dumps({"type": "message", "id": junk(rng, 80), "text": junk(rng, 300)})
    if kind == 4:
        return json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": "x" * rng.choice([0, 1, 5000, 60000])})
    if kind == 5:
        return json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": junk_json(rng)})
    if kind == 6:
        return json.dumps({"type": "hello", "visitor_id": junk(rng, 100), "customer_id": junk(rng, 20),
                           "signature": junk(rng, 70), "issued_at": junk_json(rng)})
    if kind == 7:
        return json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": "/order_status{\"order_id\":1}",
                           "payload": junk(rng, 40)})
    if kind == 8:
        return json.dumps({"type": rng.choice(["ack", "welcome", "error", "ping", ""]), "id": junk_json(rng)})
    return "{" * rng.randint(1, 5000)


async def fuzz_webchat(session: aiohttp.ClientSession, origin: str, rng: random.Random, inputs: int,
                       statuses: Counter) -> None:
    sent = 0
    while sent < inputs:
        try:
            async with session.ws_connect(f"{origin}/ws/chat", headers={"Origin": origin}) as socket:
                statuses["ws-open"] += 1
                if rng.random() < 0.7:
                    await socket.send_str(json.dumps({"type": "hello", "visitor_id": uuid.uuid4().hex}))
                    await socket.receive(timeout=10)
                for _ in range(rng.randint(1, 8)):
                    frame = webchat_frame(rng)
                    sent += 1
                    if isinstance(frame, bytes):
                        await socket.send_bytes(frame)
                    else:
                        await socket.send_str(frame)
                    reply = await socket.receive(timeout=10)
                    if reply.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
        except aiohttp.WSServerHandshakeError as error:
            statuses[f"ws-{error.status}"] += 1
            sent += 1
        except (aiohttp.ClientError, TimeoutError, ConnectionError):
            statuses["ws-dropped"] += 1


# -- WeChat --------------------------------------------------------------------------------------------------

HOSTILE_XML = (
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><Content>&c;</Content></xml>'),
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
    "<xml>" * 2000,
    "<xml><MsgType>text</MsgType></xml>",
)


def wechat_request(rng: random.Random, wechat: Any) -> tuple[str, dict[str, str], bytes]:
    from fakes.wechat import fixture

    push = wechat.push(fixture("text", openid=f"oFuzz{rng.randint(0, 99)}", msg_id=str(rng.getrandbits(60)),
                               content=junk(rng, 40) or "hi"))
    query, body = dict(push.query), push.body
    kind = rng.randint(0, 8)
    if kind == 0:
        query["signature"] = junk(rng, 40)
        query.pop("msg_signature", None) if rng.random() < 0.5 else query.update(msg_signature=junk(rng, 40))
    elif kind == 1:
        body = body[: rng.randint(0, len(body))]
    elif kind == 2:
        body = rng.choice(HOSTILE_XML).encode()
    elif kind == 3:
        query["timestamp"] = str(rng.choice([0, -1, 10**12, int(time.time()) - 86_400]))
    elif kind == 4:
        query = {k: v for k, v in query.items() if rng.random() < 0.5}
    elif kind == 5:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    elif kind == 6:
        encrypted = re.sub(rb"<Encrypt><!\[CDATA\[(.*?)\]\]>",
                           lambda m: b"<Encrypt><![CDATA[" + base64.b64encode(secrets.token_bytes(48)) + b"]]>",
                           body)
        body = encrypted
    elif kind == 7:
        body = b"<xml>" + b"A" * rng.choice([70_000, 200_000]) + b"</xml>"
    method = "GET" if rng.random() < 0.1 else "POST"
    if method == "GET":
        query["echostr"] = junk(rng, 30)
    return method, query, body


# -- Telegram ------------------------------------------------------------------------------------------------

def telegram_request(rng: random.Random) -> tuple[dict[str, str], bytes]:
    from fakes.telegram import WEBHOOK_SECRET, update

    headers = {"Content-Type": "application/json"}
    if rng.random() < 0.8:
        headers["X-Telegram-Bot-Api-Secret-Token"] = WEBHOOK_SECRET if rng.random() < 0.8 else "".join(
            rng.choice(string.ascii_letters + string.punctuation) for _ in range(rng.randint(0, 300)))
    kind = rng.randint(0, 5)
    if kind == 0:
        body = json.dumps(junk_json(rng)).encode()
    elif kind == 1:
        body = junk(rng, 300).encode("utf-8", "replace")
    elif kind == 2:
        real = update("message")
        real["update_id"] = rng.getrandbits(31)
        real["message"]["text"] = junk(rng, 200)
        real["message"]["chat"]["id"] = junk_json(rng)
        body = json.dumps(real).encode()
    elif kind == 3:
        real = update("message")
        real["update_id"] = rng.getrandbits(31)
        del real["message"][rng.choice(list(real["message"]))]
        body = json.dumps(real).encode()
    elif kind == 4:
        body = json.dumps({"update_id": junk_json(rng), "callback_query": junk_json(rng)}).encode()
    else:
        body = b"[" * rng.randint(1, 100_000)
    return headers, body


# -- the console ---------------------------------------------------------------------------------------------

def console_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path template) of every console route, from the gateway's own route table."""
    from kefu.app.gateway import create_app

    app = create_app(settings, run_pipeline=False)
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/console") and route.method != "HEAD":
            routes.append((route.method, path))
    return sorted(set(routes))


def fill(template: str, rng: random.Random) -> str:
    def value(_: re.Match) -> str:
        return rng.choice(["T-100871", "T-1", junk(rng, 20).replace("/", "_") or "x", "..", "%00", "9" * 40])

    return re.sub(r"\{[^}]+\}", value, template)


async def fuzz_console(session: aiohttp.ClientSession, anonymous: aiohttp.ClientSession, origin: str,
                       routes: list[tuple[str, str]], rng: random.Random, inputs: int, statuses: Counter) -> None:
    for _ in range(inputs):
        method, template = rng.choice(routes)
        client = session if rng.random() < 0.8 else anonymous
        params = {junk(rng, 8) or "q": junk(rng, 30) for _ in range(rng.randint(0, 3))}
        data: Any = rng.choice([json.dumps(junk_json(rng)), junk(rng, 200), "", "{" * 3000])
        headers = {"Origin": origin if rng.random() < 0.9 else "https://evil.example",
                   "Content-Type": rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])}
        try:
            async with client.request(rng.choice([method, method, "POST", "GET", "DELETE"]), origin + fill(template, rng),
                                      params=params, data=data, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                statuses[f"console-{response.status}"] += 1
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            statuses[f"console-{type(error).__name__}"] += 1


# -- the legitimate customer ---------------------------------------------------------------------------------

async def customer(origin: str, stop: asyncio.Event) -> tuple[int, int]:
    """Ask routine questions until ``stop``; (asked, answered). The customer writes from another loopback address
    (127.0.0.2) at a person's pace: the fuzzer's own address is, rightly, held to web chat's limits."""
    asked = answered = 0
    connector = aiohttp.TCPConnector(local_addr=(CUSTOMER_ADDRESS, 0))
    async with aiohttp.ClientSession(connector=connector) as session, session.ws_connect(
            f"{origin}/ws/chat", headers={"Origin": origin}) as socket:
        await socket.send_str(json.dumps({"type": "hello", "visitor_id": uuid.uuid4().hex}))
        await socket.receive_json(timeout=30)
        while not stop.is_set():
            await socket.send_str(json.dumps({"type": "message", "id": uuid.uuid4().hex,
                                              "text": QUESTIONS[asked % len(QUESTIONS)]}))
            asked += 1
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    frame = await socket.receive_json(timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break  # counted as not answered
                if frame.get("type") == "message" and frame.get("role") == "bot":
                    answered += 1
                    break
            await asyncio.sleep(CUSTOMER_EVERY_S)
    return asked, answered


# -- the run -------------------------------------------------------------------------------------------------

async def _sign_in(origin: str, redis_url: str) -> aiohttp.ClientSession:
    from kefu.console.users import UserStore

    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    password = secrets.token_urlsafe(16)
    await UserStore(redis).add("fuzz-supervisor", "supervisor", password)
    await redis.aclose()
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[origin]))
    async with session.post(f"{origin}/console/login", json={"username": "fuzz-supervisor", "password": password},
                            headers={"Origin": origin}) as response:
        response.raise_for_status()
    return session


async def _measure(settings: Settings, seed: int) -> dict[str, Any]:
    from fakes.wechat import WeChatServer
    from kefu.app.server import serving_gateway
    from kefu.ops.processes import running_processes

    rng = random.Random(seed)
    counts = {name: int(TOTAL * share) for name, share in SHARES.items()}
    statuses: Counter = Counter()
    origin = settings.public_origin
    routes = console_routes(settings)
    async with serving_gateway(settings), running_processes(settings) as groups:
        pids_before = [pid for group in groups for pid in group.pids]
        stop = asyncio.Event()
        legit = asyncio.create_task(customer(origin, stop))
        agent = await _sign_in(origin, settings.redis_url)
        limit = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession() as session, agent:
            wechat = WeChatServer(f"{origin}/webhooks/wechat", session)

            async def one_wechat(local: random.Random) -> None:
                method, query, body = wechat_request(local, wechat)
                async with limit, session.request(method, f"{origin}/webhooks/wechat", params=query, data=body,
                                                  headers={"Content-Type": "text/xml"}) as response:
                    await response.read()
                    statuses[f"wechat-{response.status}"] += 1

            async def one_telegram(local: random.Random) -> None:
                headers, body = telegram_request(local)
                async with limit, session.post(f"{origin}/webhooks/telegram", data=body, headers=headers) as response:
                    await response.read()
                    statuses[f"telegram-{response.status}"] += 1

            async def guarded(job: Any) -> None:
                try:
                    await job
                except (aiohttp.ClientError, TimeoutError, ValueError) as error:  # ValueError: refused by our client
                    statuses[f"dropped-{type(error).__name__}"] += 1

            jobs = [guarded(one_wechat(random.Random(rng.random()))) for _ in range(counts["wechat"])]
            jobs += [guarded(one_telegram(random.Random(rng.random()))) for _ in range(counts["telegram"])]
            per_socket = counts["webchat"] // CONCURRENCY
            jobs += [fuzz_webchat(session, origin, random.Random(rng.random()), per_socket, statuses)
                     for _ in range(CONCURRENCY)]
            per_client = counts["console"] // CONCURRENCY
            jobs += [fuzz_console(agent, session, origin, routes, random.Random(rng.random()), per_client, statuses)
                     for _ in range(CONCURRENCY)]
            rng.shuffle(jobs)
            started = time.monotonic()
            await asyncio.gather(*jobs)
            elapsed = time.monotonic() - started
            async with session.get(f"{origin}/healthz") as response:
                health = response.status
        stop.set()
        asked, answered = await legit
        pids_after = [pid for group in groups for pid in group.pids]
        restarts = sum(group.restarts for group in groups)
    return {"statuses": statuses, "elapsed_s": elapsed, "health": health, "asked": asked, "answered": answered,
            "restarts": restarts, "same_processes": pids_before == pids_after, "routes": len(routes),
            "inputs": sum(counts.values())}


def report(result: dict[str, Any]) -> str:
    statuses: Counter = result["statuses"]
    server_errors = sum(n for key, n in statuses.items() if re.search(r"-5\d\d$", key))
    lines = [f"{result['inputs']} fuzzed inputs in {result['elapsed_s']:.0f} s ({result['routes']} console routes)",
             "responses: " + ", ".join(f"{key} {n}" for key, n in sorted(statuses.items())),
             f"5xx responses: {server_errors} (target 0)",
             f"processes restarted: {result['restarts']} (target 0); same processes: {result['same_processes']}",
             f"/healthz after: {result['health']}",
             f"legitimate customer meanwhile: {result['answered']} of {result['asked']} questions answered"]
    return "\n".join(lines)


def run(seed: int = 1) -> int:
    from fakes.telegram import BOT_TOKEN, WEBHOOK_SECRET, fake_bot_api
    from fakes.wechat import AES_KEY, APPID, SECRET, TOKEN, fake_wechat_api
    from kefu.app import eventloop
    from kefu.config.channels import ChannelSettings
    from kefu.ops.runtime import on_free_ports, running_stack, settings_from_env

    settings = on_free_ports(settings_from_env())

    async def play() -> dict[str, Any]:
        async with fake_wechat_api() as wechat_api, fake_bot_api() as bot_api:
            configured = dataclasses.replace(settings, channels=ChannelSettings(
                wechat_appid=APPID, wechat_token=TOKEN, wechat_secret=SECRET, wechat_aes_key=AES_KEY,
                wechat_api_base_url=wechat_api.base_url, wechat_passive_wait_s=0,
                telegram_bot_token=BOT_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET,
                telegram_api_base_url=bot_api.base_url))
            async with running_stack(configured, scratch=True):
                return await _measure(configured, seed)

    result = eventloop.run(play())
    print(report(result))
    statuses: Counter = result["statuses"]
    failed = (any(re.search(r"-5\d\d$", key) for key in statuses) or result["restarts"] or result["health"] != 200
              or result["answered"] < result["asked"])
    return 1 if failed else 0
