"""``python -m bot bench wechat``: how fast the WeChat webhook acknowledges, and whether retries duplicate replies.

Starts its own stack (as ``eval`` does: free ports, Redis DB 15), a real gateway with the pipeline and the real
bot, and the local stand-in for WeChat's API servers (tests/helpers/fake_wechat.py: this machine cannot reach
WeChat). 50 concurrent senders push signed, encrypted messages; acknowledgement latency is measured with the
passive-reply wait switched off (the gateway answers ``success`` once the message is stored). Then 1,000
deliveries replay 250 MsgIds 4 times each (WeChat's original plus 3 retries) and the replies are counted.
"""
from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import aiohttp
from aiohttp import web

from bot.settings import Settings

SENDERS = 50
PER_SENDER = 20
REPLAYED_MESSAGES = 250
DELIVERIES_EACH = 4
TARGET_P99_MS = 100.0


def send_batches(url: str, batches: list[list]) -> tuple[list[float], int]:
    """One concurrent sender per batch, each waiting for its acknowledgement; returns latencies (ms)."""

    async def main() -> tuple[list[float], int]:
        latencies: list[float] = []
        refused = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(batches))) as session:

            async def sender(batch: list) -> None:
                nonlocal refused
                for push in batch:
                    started = time.perf_counter()
                    async with session.post(url, params=push.query, data=push.body,
                                            headers={"Content-Type": "text/xml"}) as response:
                        await response.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    refused += response.status != 200

            await asyncio.gather(*(sender(batch) for batch in batches))
        return latencies, refused

    return asyncio.run(main())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def _measure(settings: Settings) -> dict[str, float]:
    from bot import appkeys
    from bot.app import create_app
    from bot.channel_settings import ChannelSettings
    from tests.helpers.fake_wechat import AES_KEY, APPID, SECRET, TOKEN, WeChatServer, fake_wechat_api, fixture

    async with fake_wechat_api() as api:
        settings = dataclasses.replace(settings, channels=ChannelSettings(
            wechat_appid=APPID, wechat_token=TOKEN, wechat_secret=SECRET, wechat_aes_key=AES_KEY,
            wechat_api_base_url=api.base_url))
        app = create_app(settings)
        app[appkeys.CHANNELS]["wechat"].passive.wait_s = 0
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        try:
            connector = aiohttp.TCPConnector(limit=SENDERS)
            async with aiohttp.ClientSession(connector=connector) as session:
                wechat = WeChatServer(f"{settings.public_origin}/webhooks/wechat", session)
                # Fresh MsgIds and users every run: the eval database keeps earlier runs' dedupe keys.
                run = random.randrange(10**5, 10**6)
                # Signed and encrypted beforehand, and sent from another process: the senders stand for
                # WeChat's servers, so their CPU must not be counted as the gateway's.
                batches = [[wechat.push(fixture("text", openid=f"oBench{run}-{index}",
                                                msg_id=f"1{run}{index:03d}{n:04d}",
                                                content="运费怎么算")) for n in range(PER_SENDER)]
                           for index in range(SENDERS)]
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    latencies, refused = await asyncio.get_running_loop().run_in_executor(
                        pool, send_batches, wechat.url, batches)
                api.sent.clear()
                pushes = [wechat.push(fixture("text", openid=f"oReplay{run}-{i}", msg_id=f"9{run}{i:05d}",
                                          content="hello"))
                          for i in range(REPLAYED_MESSAGES) for _ in range(DELIVERIES_EACH)]
                semaphore = asyncio.Semaphore(SENDERS)

                async def deliver(push) -> None:
                    async with semaphore:
                        await wechat.send(push)

                await asyncio.gather(*(deliver(p) for p in pushes))
                answered: Counter[str] = Counter()
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    answered = Counter(m["touser"] for m in api.sent if m["touser"].startswith("oReplay"))
                    if len(answered) == REPLAYED_MESSAGES:
                        await asyncio.sleep(3)  # let any duplicate arrive before counting
                        break
                    await asyncio.sleep(0.5)
                replies = [(m["touser"], m["text"]["content"]) for m in api.sent if m["touser"].startswith("oReplay")]
        finally:
            await runner.cleanup()
    return {
        "deliveries": len(latencies), "refused": refused,
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
        "replayed": len(pushes), "answered": len({u for u, _ in replies}),
        "duplicates": len(replies) - len(set(replies)),
    }


def report(result: dict[str, float]) -> str:
    ok = "ok" if result["p99"] <= TARGET_P99_MS else "MISSED"
    dup_ok = "ok" if result["duplicates"] == 0 else "MISSED"
    rows = [
        ("WeChat ack latency", f"{SENDERS} concurrent senders, {int(result['deliveries'])} deliveries", ""),
        ("  p50", f"{result['p50']:.1f} ms", ""),
        ("  p95", f"{result['p95']:.1f} ms", ""),
        ("  p99", f"{result['p99']:.1f} ms", f"target <= {TARGET_P99_MS:.0f} ms: {ok}"),
        ("  refused", str(int(result["refused"])), ""),
        ("Replayed deliveries", f"{int(result['replayed'])} ({REPLAYED_MESSAGES} MsgIds x {DELIVERIES_EACH})", ""),
        ("  conversations answered", f"{int(result['answered'])} / {REPLAYED_MESSAGES}", ""),
        ("  duplicate replies", str(int(result["duplicates"])), f"target 0: {dup_ok}"),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    return "\n".join(f"{a.ljust(width)}  {b.ljust(value_width)}  {c}".rstrip() for a, b, c in rows)


def run() -> int:
    from bot.runtime import on_free_ports, running_stack, settings_from_env

    settings = on_free_ports(settings_from_env())

    async def play() -> dict[str, float]:
        async with running_stack(settings):
            return await _measure(settings)

    result = asyncio.run(play())
    print(report(result))
    return 0 if result["p99"] <= TARGET_P99_MS and result["duplicates"] == 0 else 1
