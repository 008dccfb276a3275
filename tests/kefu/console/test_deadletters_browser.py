"""The dead-letter page in Debian's headless Chromium: a customer's text holding ``<script>`` and an ``onerror``
image is shown as text (nothing of it runs or becomes an element), and the Retry button queues it once."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, expect

from kefu.config.settings import Settings
from kefu.core import keys
from kefu.core.inbox import shard_of
from tests.helpers.console import add_user
from tests.helpers.gateway import running_gateway
from tests.kefu.console.test_console_browser import SCREENSHOTS
from tests.kefu.console.test_dashboard import gateway_settings
from tests.kefu.console.test_dashboard_browser import sign_in
from tests.kefu.console.test_deadletters import SCRIPT_TEXT, dead_letter

pytestmark = pytest.mark.browser


@pytest.fixture
async def console_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = gateway_settings(redis_url)
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def test_the_customer_text_is_shown_as_text_and_retried_once(
    browser: Browser, console_gateway: Settings, redis_client: aioredis.Redis,
) -> None:
    base = console_gateway.public_origin
    letter = await dead_letter(redis_client, "cust:c1002", SCRIPT_TEXT)
    page = await sign_in(browser, base, "sue", await add_user(console_gateway.redis_url, "sue", role="supervisor"))
    await expect(page.locator("#deadletters-link")).to_be_visible()
    await page.click("#deadletters-link")
    await page.wait_for_url(f"{base}/console/dead-letters")
    await page.goto(f"{base}/console/dead-letters?lang=en")
    await page.wait_for_selector("body[data-drawn]", timeout=15_000)
    row = page.locator(f'tr[data-letter="{letter}"]')
    await expect(row.locator("td.text")).to_have_text(SCRIPT_TEXT)
    await expect(row.locator("td.channel")).to_have_text("web chat")
    await expect(row.locator("td.error")).to_have_text("RasaProtocolError: not a list")
    assert await page.evaluate("document.querySelectorAll('#letters script, #letters img').length") == 0
    assert await page.evaluate("window.__pwned === undefined")

    stream = keys.inbox_stream(shard_of("cust:c1002", console_gateway.shards))
    await row.locator('button[data-action="retry"]').click()
    await expect(row.locator("td.status")).to_have_text("retried by sue")
    await expect(row.locator("button")).to_have_count(0)
    assert await redis_client.xlen(stream) == 1
    await page.reload()
    await page.wait_for_selector("body[data-drawn]", timeout=15_000)
    await expect(page.locator(f'tr[data-letter="{letter}"] td.status')).to_have_text("retried by sue")
    assert await page.evaluate("window.__pwned === undefined")
    await page.screenshot(path=str(SCREENSHOTS / "dead-letters-en.png"), full_page=True)
    await page.goto(f"{base}/console/dead-letters?lang=zh")
    await page.wait_for_selector("body[data-drawn]", timeout=15_000)
    await expect(page.locator(f'tr[data-letter="{letter}"] td.channel')).to_have_text("网页聊天")
    await page.screenshot(path=str(SCREENSHOTS / "dead-letters-zh.png"), full_page=True)
