"""The console in Debian's headless Chromium: an agent signs in, takes a complaint from the widget and replies;
markup a customer wrote stays inert text; a shift's inbox (search, snooze, the console in Chinese)."""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, expect

from kefu.config.settings import Settings
from kefu.console.users import UserStore
from kefu.handoff.manager import HandoffManager
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.console import add_user
from tests.kefu.console.rig import manager, opened  # noqa: F401  (fixture)
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)
from tests.kefu.console.test_takeover_e2e import open_gateway  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>我要投诉，这个快递员态度太恶劣了'




@pytest.mark.stack
async def test_agent_takes_over_in_the_console_and_markup_stays_text(
    open_gateway: Settings, browser: Browser  # noqa: F811
) -> None:
    base = open_gateway.public_origin
    # In the safety team too: how the handoff classifier reads markup is not this test's business, and a safety
    # reading would route the ticket to that team only.
    password = await add_user(open_gateway.redis_url, "ann", team="general,safety")
    console = await (await browser.new_context()).new_page()  # noqa: F811  (the page, not the fixture)
    await console.goto(f"{base}/console")
    assert console.url.endswith("/console/login")
    await console.fill("#username", "ann")
    await console.fill("#password", password)
    await console.click("#signin")
    await expect(console.locator("#link")).to_have_text("live", timeout=15_000)

    widget = await (await browser.new_context(locale="zh-CN")).new_page()
    await widget.goto(f"{base}/?as=c1001")
    await widget.click("#kefu-launcher")
    await widget.fill("#kefu-input", PAYLOAD)
    await widget.press("#kefu-input", "Enter")
    await expect(widget.locator(".kefu-system").filter(has_text="T-").first).to_be_visible(timeout=60_000)

    item = console.locator("#queue .item")
    await expect(item).to_have_count(1, timeout=15_000)
    await item.click()
    trigger = console.locator("#transcript li.trigger .text")
    await expect(trigger).to_have_text(PAYLOAD)
    await console.click("#claim")
    await expect(console.locator("#assigned .item")).to_have_count(1)
    await console.fill("#reply", "您好，我是客服小安，马上为您处理。")
    await console.click("#send")
    await expect(widget.locator(".kefu-agent").filter(has_text="马上为您处理")).to_be_visible(timeout=15_000)

    assert await console.locator("#transcript img, #queue img, #board script").count() == 0
    assert await console.evaluate("window.__xss") is None
    assert await widget.evaluate("window.__xss") is None


SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def shop_time(seconds: float) -> str:
    """A moment as the shop's clock shows it, in a datetime-local input's format."""
    return datetime.fromtimestamp(seconds, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M:%S")


async def test_an_agents_shift_search_snooze_and_the_console_in_chinese(
    console: str, redis_url: str, redis_client: aioredis.Redis, manager: HandoffManager, browser: Browser  # noqa: F811
) -> None:
    """In a browser set to UTC and en-US: search by order id, a snoozed conversation coming back by itself,
    what the bot understood in words, times in the shop's zone, then the same console in Chinese, remembered."""
    password = await add_user(redis_url, "ann")
    orders = await DemoOrderBackend(redis_client).orders_of("c1001")
    mine = await opened(manager, "cust:c1001", "我要投诉，快递员态度太差", customer_id="c1001",
                        slots={"order_id": orders[0].id, "lang": "zh"})
    other = await opened(manager, "cust:c1002", "I want to file a complaint", customer_id="c1002")
    context = await browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 1440, "height": 960})
    page = await context.new_page()
    await page.goto(f"{console}/console/login")
    await page.fill("#username", "ann")
    await page.fill("#password", password)
    await page.click("#signin")
    await expect(page.locator("#link")).to_have_text("live", timeout=15_000)
    await expect(page.locator("#tz")).to_contain_text("Asia/Shanghai")

    # Unassigned: both; the keyboard takes one (c) and the view moves to Mine.
    await expect(page.locator("#queue .item")).to_have_count(2)
    await page.click(f"#queue .item[data-ticket='{mine.ticket_id}']")
    await expect(page.locator("#ticket-head h2")).to_contain_text(mine.ticket_id)
    await page.keyboard.press("c")
    await expect(page.locator("[data-view=mine]")).to_have_class("current")
    await expect(page.locator("#assigned .item")).to_have_count(1)

    # Search by an order id finds the customer's ticket, whatever the view.
    await page.fill("#search", orders[-1].id)
    await expect(page.locator(f"#assigned .item[data-ticket='{mine.ticket_id}']")).to_have_count(1)
    await expect(page.locator(f".item[data-ticket='{other.ticket_id}']")).to_have_count(0)
    await expect(page.locator("#results")).to_contain_text(orders[-1].id)
    await page.click("#search-clear")

    # The sidebar: orders with their timeline, what the bot understood in words (no JSON), shop-time dates.
    await expect(page.locator(f"#orders .order[data-order='{orders[0].id}']")).to_be_visible()
    await expect(page.locator("#understood")).to_contain_text("order number")
    await expect(page.locator("#understood")).not_to_contain_text("{")
    await expect(page.locator("#customer")).to_contain_text("c1001")
    shop_clock = datetime.fromtimestamp(mine.created_at, ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    await expect(page.locator("#ticket-head")).to_contain_text(shop_clock)

    # Snoozed until a moment a few seconds away: it leaves the open view and comes back by itself.
    await page.select_option("#snooze-for", "custom")
    await page.fill("#snooze-until", shop_time(time.time() + 4))
    await page.click("#snooze")
    await expect(page.locator("#assigned .item")).to_have_count(0, timeout=5_000)
    await expect(page.locator("#ticket-head h2")).to_contain_text("snoozed until")
    await expect(page.locator("#assigned .item")).to_have_count(1, timeout=20_000)
    await expect(page.locator("#notice")).to_contain_text(f"{mine.ticket_id} is back from snooze")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "console-en.png"), full_page=True)

    # Chinese, chosen once and remembered on the account (a fresh browser profile still gets it).
    await page.select_option("#lang", "zh")
    await expect(page.locator("[data-view=mine]")).to_have_text("我的 (1)")
    await expect(page.locator("#understood")).to_contain_text("订单号")
    fresh = await (await browser.new_context(locale="en-US", timezone_id="UTC",
                                             viewport={"width": 1440, "height": 960})).new_page()
    await fresh.goto(f"{console}/console/login")
    await fresh.fill("#username", "ann")
    await fresh.fill("#password", password)
    await fresh.click("#signin")
    await expect(fresh.locator("#link")).to_have_text("已连接", timeout=15_000)
    await expect(fresh.locator("[data-view=unassigned]")).to_have_text("待分配 (1)")
    await fresh.click("[data-view=mine]")
    await fresh.click(f"#assigned .item[data-ticket='{mine.ticket_id}']")
    await expect(fresh.locator("#claim")).to_have_text("分配给我")
    await expect(fresh.locator("#transcript")).to_contain_text("理解为")
    await fresh.screenshot(path=str(SCREENSHOTS / "console-zh.png"), full_page=True)
    assert await fresh.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '我的')")


async def test_a_supervisor_manages_teams_in_the_console(
    console: str, redis_url: str, redis_client: aioredis.Redis, browser: Browser  # noqa: F811
) -> None:
    password = await add_user(redis_url, "sue", "supervisor")
    await add_user(redis_url, "ann")
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{console}/console/login")
    await page.fill("#username", "sue")
    await page.fill("#password", password)
    await page.click("#signin")
    await expect(page.locator("#link")).to_have_text("live", timeout=15_000)
    await expect(page.locator("#dashboard-link")).to_have_attribute("href", "/console/dashboard")
    await expect(page.locator("[data-view=all]")).to_be_visible()
    await page.click("#teams-button")
    await page.fill("#new-team", "returns")
    await page.click("#create-team")
    box = page.locator("tr[data-agent=ann] input[data-team=returns]")
    await expect(box).to_be_visible()
    await box.check()
    await page.click("#save-teams")
    await expect(page.locator("#notice")).to_have_text("Saved.")
    user = await UserStore(redis_client).get("ann")
    assert user is not None and user.teams == ("general", "returns")
