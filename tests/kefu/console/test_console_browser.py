"""The console in Debian's headless Chromium: an agent signs in, takes a complaint from the widget and replies;
markup a customer wrote stays inert text."""
from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright, expect

from kefu.config.settings import Settings
from tests.helpers.console import add_user
from tests.kefu.console.test_takeover_e2e import open_gateway  # noqa: F401  (fixture)

pytestmark = [pytest.mark.stack, pytest.mark.browser]

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>我要投诉，这个快递员态度太恶劣了'


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which("chromium") == "/usr/bin/chromium", "Debian's chromium is missing"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                   args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


async def test_agent_takes_over_in_the_console_and_markup_stays_text(
    open_gateway: Settings, browser: Browser  # noqa: F811
) -> None:
    base = open_gateway.public_origin
    password = await add_user(open_gateway.redis_url, "ann")
    console = await (await browser.new_context()).new_page()
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

    item = console.locator("#queue .item.high")
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
