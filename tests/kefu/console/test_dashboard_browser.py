"""The supervisor dashboard in Debian's headless Chromium, drawn from a seeded day: every chart's canvas has
pixels, the numbers on the page are the API's, in English and in Chinese; the screenshots go to docs/screenshots/
for the README. A QA review is scored on the same page, and the agent reads it on theirs."""
from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, expect

from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage
from kefu.core.reviews import QAQueue
from tests.helpers.console import add_user, signed_in
from tests.helpers.dashboard_seed import Seeded, seed_dashboard
from tests.helpers.gateway import running_gateway
from tests.kefu.console.test_dashboard import gateway_settings

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CHARTS = ("conversations", "handoffs", "waiting", "sla", "csat", "followups", "categories")
# Counts pixels a chart painted (anything not transparent) on each canvas.
PAINTED = """(ids) => ids.map((id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return [canvas.width, canvas.height, painted];
})"""


@pytest.fixture
async def dashboard_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = gateway_settings(redis_url)
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def sign_in(browser: Browser, base: str, name: str, password: str,
                  locale: str = "en-US") -> Page:
    """A browser on UTC, whatever the shop's time zone: the page must not lean on the browser's clock."""
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC",
                                            locale=locale)).new_page()
    await page.goto(f"{base}/console/login")
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.click("#signin")
    await page.wait_for_url(f"{base}/console", timeout=15_000)
    return page


async def drawn(page: Page, base: str, seeded: Seeded, lang: str) -> dict:
    await page.goto(f"{base}/console/dashboard?lang={lang}&{seeded.query}")
    await page.wait_for_selector("body[data-drawn]", timeout=15_000)  # (the page's CSP forbids eval'd waits)
    assert await page.evaluate("window.__dashboard.charts.length") == len(CHARTS)
    painted = await page.evaluate(PAINTED, [f"chart-{name}" for name in CHARTS])
    for name, (width, height, pixels) in zip(CHARTS, painted, strict=True):
        assert width > 100 and height > 100, name
        assert pixels > 500, f"chart {name} is empty"
    return await page.evaluate("window.__dashboard.stats")


async def api_stats(base: str, seeded: Seeded, password: str) -> dict:
    async with signed_in(base, "sue", password) as sue:
        status, stats = await sue.get(f"/console/api/stats?{seeded.query}")
        assert status == 200
        return stats


@pytest.mark.parametrize(("lang", "labels"), [
    ("en", {"title": "Supervisor dashboard", "rate": "Resolved by the bot", "burn": "burn"}),
    ("zh", {"title": "主管看板", "rate": "机器人解决率", "burn": "烫伤烧伤"}),
])
async def test_dashboard_charts_from_seeded_data(
    dashboard_gateway: Settings, redis_client: aioredis.Redis, browser: Browser, lang: str,
    labels: dict[str, str],
) -> None:
    seeded = await seed_dashboard(redis_client, lang)
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    page = await sign_in(browser, base, "sue", password, "zh-CN" if lang == "zh" else "en-US")
    shown = await drawn(page, base, seeded, lang)
    stats = await api_stats(base, seeded, password)
    assert shown == stats  # the page drew the API's numbers

    await expect(page.locator("h1")).to_have_text(labels["title"])
    await expect(page.locator("#kpis")).to_contain_text(labels["rate"])
    await expect(page.locator("#qa-form")).to_be_hidden()
    await expect(page.locator("#kpi-conversations")).to_have_text(str(stats["conversations"]["total"]))
    await expect(page.locator("#kpi-bot-rate")).to_have_text(f"{stats['bot']['rate'] * 100:.1f}%")
    await expect(page.locator("#kpi-handoffs")).to_have_text(str(stats["handoffs"]["total"]))
    breaches = sum(row["breached"] for row in stats["sla"].values())
    await expect(page.locator("#kpi-breaches")).to_have_text(str(breaches))
    await expect(page.locator("#kpi-csat-bot")).to_have_text(f"{stats['csat']['bot']['average']:.2f}")
    await expect(page.locator("#kpi-csat-agents")).to_have_text(f"{stats['csat']['agents']['average']:.2f}")
    await expect(page.locator("#from")).to_have_value(stats["range"]["from"])
    categories = page.locator("#table-categories tr")
    await expect(categories).to_have_count(1 + len(stats["categories"]))
    await expect(categories.nth(1)).to_have_text(f"{labels['burn']}1")
    waiting = page.locator("#table-waiting tr").nth(2)  # high: p50 and p90 in minutes
    await expect(waiting.locator("td").nth(1)).to_have_text(f"{stats['waiting']['high']['p50_s'] / 60:.1f}")
    await expect(page.locator("#table-followups")).to_contain_text(str(stats["followups"]["missed"]))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"dashboard-{lang}.png"), full_page=True)

    # another range redraws from the API: nothing in it
    await page.fill("#from", "2020-01-01")
    await page.fill("#to", "2020-01-02")
    await page.click("#apply")
    await expect(page.locator("#kpi-conversations")).to_have_text("0")


async def test_a_supervisor_scores_a_sampled_conversation(
    dashboard_gateway: Settings, redis_client: aioredis.Redis, browser: Browser
) -> None:
    await ConversationStore(redis_client).add_reply(
        OutboundMessage("cust:c1", "<b>您好</b>，已为您登记", role="agent", sent_at=1050.0), "web")
    item = await QAQueue(redis_client, 1.0, random.Random(0)).consider(
        "T-100950", "agent", "cust:c1", "T-100950", "ann", "web", 1000.0, 1100.0)
    assert item is not None
    base = dashboard_gateway.public_origin
    password = await add_user(dashboard_gateway.redis_url, "sue", role="supervisor")
    page = await sign_in(browser, base, "sue", password)
    await page.goto(f"{base}/console/dashboard?lang=zh")
    row = page.locator(f"#qa-queue li[data-item='{item.id}']")
    await row.locator("button").click()
    await expect(page.locator("#qa-transcript")).to_contain_text("<b>您好</b>，已为您登记")  # text, not markup
    await page.fill("#qa-right", "4")
    await page.fill("#qa-empathy", "5")
    await page.select_option("#qa-rules", "true")
    await page.select_option("#qa-promise", "false")
    await page.fill("#qa-comment", "回访晚了一天")
    await page.click("#qa-submit")
    await expect(page.locator(f"#qa-reviewed li[data-item='{item.id}']")).to_contain_text("回访晚了一天")
    await expect(page.locator("#qa-queue li[data-item]")).to_have_count(0)
    # the agent reads the review of their conversation on their own page
    ann = await sign_in(browser, base, "ann", await add_user(dashboard_gateway.redis_url, "ann"))
    await ann.goto(f"{base}/console/reviews?lang=zh")
    review = ann.locator(f"#reviews tr[data-item='{item.id}']")
    await expect(review).to_contain_text("回访晚了一天")
    await expect(review).to_contain_text("4/5")
    await expect(ann.locator("h1")).to_have_text("我的会话质检结果")
    reviewed = await QAQueue(redis_client, 1.0).of_agent("ann")
    assert [(i.id, i.review.right_answer, i.review.empathy, i.review.promise_kept, i.review.reviewer)
            for i in reviewed if i.review] == [(item.id, 4, 5, False, "sue")]
