"""The dashboard's API on a real gateway (no Rasa needed): its numbers against a seeded day, the CSV, the date
range's validation, who may see it, and the page and chart library it serves."""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.ops.stack import free_port
from tests.helpers.console import add_user, cookie_jar, signed_in
from tests.helpers.dashboard_seed import seed_dashboard
from tests.helpers.gateway import running_gateway

VENDOR = Path(__file__).resolve().parents[3] / "kefu" / "console" / "static" / "vendor"


def gateway_settings(redis_url: str) -> Settings:
    """A gateway without Rasa or a pipeline: the dashboard reads Redis only."""
    return Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                    identity_secret="s", port=free_port())


@pytest.fixture
async def dashboard_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = gateway_settings(redis_url)
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def test_the_numbers_match_the_seeded_day(dashboard_gateway: Settings, redis_client: aioredis.Redis) -> None:
    seeded = await seed_dashboard(redis_client)
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", password) as sue:
        status, stats = await sue.get(f"/console/api/stats?{seeded.query}")
        assert status == 200, stats
        assert stats["range"]["timezone"] == "Asia/Shanghai"
        for section, numbers in seeded.expected.items():
            got = stats[section]
            if section == "conversations":
                got = {"total": got["total"], "by_channel": got["by_channel"]}
            assert got == numbers, section
        # A range without the seeded day has nothing in it
        status, empty = await sue.get("/console/api/stats?from=2020-01-01&to=2020-01-31")
        assert status == 200
        assert (empty["conversations"]["total"], empty["handoffs"]["total"], empty["bot"]["rate"]) == (0, 0, None)


async def test_csv_export_has_the_same_numbers(dashboard_gateway: Settings, redis_client: aioredis.Redis) -> None:
    seeded = await seed_dashboard(redis_client)
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", password) as sue:
        async with sue.http.get(f"{base}/console/api/stats.csv?{seeded.query}") as response:
            assert response.status == 200
            assert response.content_type == "text/csv"
            assert "attachment" in response.headers["Content-Disposition"]
            rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["section", "name", "detail", "value"]
    cells = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert cells[("bot", "rate", "")] == "0.5"
    assert cells[("handoffs", "complaint", "")] == "2"
    assert cells[("sla", "high", "breached")] == "2"
    assert cells[("conversations", "wechat", "14:00")] == "2"
    assert cells[("csat", "bot", "average")] == "4.5"
    assert cells[("followups", "missed", "")] == "2"
    assert cells[("categories", "burn", "")] == "1"


@pytest.mark.parametrize(("query", "error"), [
    ("from=yesterday", "from: a date as YYYY-MM-DD"),
    ("from=2026-02-10&to=2026-02-01", "from: not after to"),
    ("from=2024-01-01&to=2026-01-01", "from: at most 366 days before to"),
    ("to=2026-13-01", "to: a date as YYYY-MM-DD"),
])
async def test_a_bad_range_is_a_400_naming_it(dashboard_gateway: Settings, query: str, error: str) -> None:
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", password) as sue:
        assert await sue.get(f"/console/api/stats?{query}") == (400, {"error": error})


async def test_only_supervisors_see_the_dashboard(dashboard_gateway: Settings) -> None:
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "ann")
    async with aiohttp.ClientSession(cookie_jar=cookie_jar(base)) as anonymous:
        async with anonymous.get(f"{base}/console/api/stats") as response:
            assert response.status == 401
        async with anonymous.get(f"{base}/console/dashboard", allow_redirects=False) as response:
            assert (response.status, response.headers["Location"]) == (302, "/console/login")
    async with signed_in(base, "ann", password) as ann:
        assert await ann.get("/console/api/stats") == (403, {"error": "supervisor"})
        status, _ = await ann.get("/console/api/stats.csv")
        assert status == 403
        async with ann.http.get(f"{base}/console/dashboard") as response:
            assert response.status == 403


async def test_page_and_chart_library_are_served_with_their_types(dashboard_gateway: Settings) -> None:
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", password) as sue:
        async with sue.http.get(f"{base}/console/dashboard") as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            page = await response.text()
        assert "/console/dashboard/vendor/chart.umd.min.js" in page and "cdn" not in page.lower()
    async with aiohttp.ClientSession() as http:
        for path, kind in [("vendor/chart.umd.min.js", "text/javascript"), ("dashboard.js", "text/javascript"),
                           ("dashboard.css", "text/css"), ("vendor/chart.js-LICENSE.md", "text/plain")]:
            async with http.get(f"{base}/console/dashboard/{path}") as response:
                assert (response.status, response.content_type) == (200, kind), path
                assert response.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(f"{base}/console/dashboard/vendor/README.md") as response:
            assert response.status == 404  # only the files listed are served
    assert (VENDOR / "chart.umd.min.js").read_text(encoding="utf-8").startswith("/*!\n * Chart.js v4.6.1")
    assert "MIT License" in (VENDOR / "chart.js-LICENSE.md").read_text(encoding="utf-8")


async def test_texts_in_both_languages(dashboard_gateway: Settings) -> None:
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", password) as sue:
        status, zh = await sue.get("/console/api/stats/texts?lang=zh")
        assert status == 200 and zh["texts"]["dashboard.title"] == "主管看板"
        assert zh["texts"]["category.burn"] == "烫伤烧伤" and zh["texts"]["console.priority.urgent"] == "紧急"
        status, en = await sue.get("/console/api/stats/texts?lang=en")
        assert en["texts"]["dashboard.title"] == "Supervisor dashboard"
        assert set(zh["texts"]) == set(en["texts"])
        assert (await sue.get("/console/api/stats/texts?lang=fr"))[0] == 400
