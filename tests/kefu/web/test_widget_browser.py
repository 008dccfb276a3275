"""The widget on the demo page, in Debian's headless Chromium driven by Playwright."""
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from kefu.config.settings import Settings
from tests.helpers.gateway import running_gateway

pytestmark = [pytest.mark.stack, pytest.mark.browser]



@pytest.fixture
async def gateway(stack_settings: Settings) -> AsyncIterator[str]:
    """The shared gateway fixture in demo mode: the demo shop page is only served there."""
    async with running_gateway(dataclasses.replace(stack_settings, demo=True)) as base_url:
        yield base_url




async def test_customer_asks_and_sees_the_answer(gateway: str, browser: Browser) -> None:
    page = await browser.new_page(locale="zh-CN")
    await page.goto(f"{gateway}/?as=c1001")
    await page.click("#kefu-launcher")
    await page.fill("#kefu-input", "我的订单DD20261104005到哪了")
    await page.press("#kefu-input", "Enter")
    answer = page.locator(".kefu-bot").filter(has_text="DD20261104005")
    await expect(answer.first).to_be_visible(timeout=60_000)
    # After a reload the whole conversation is still there.
    await page.reload()
    await page.click("#kefu-launcher")
    await expect(page.locator(".kefu-customer").filter(has_text="我的订单DD20261104005到哪了")).to_have_count(1)
    await expect(page.locator(".kefu-bot").filter(has_text="DD20261104005").first).to_be_visible()


async def test_english_visitor_and_markup_stays_text(gateway: str, browser: Browser) -> None:
    page = await browser.new_page(locale="en-US")
    await page.goto(f"{gateway}/?as=c1002")
    await page.click("#kefu-launcher")
    await page.fill("#kefu-input", "hey where is my parcel??")
    await page.press("#kefu-input", "Enter")
    await expect(page.locator(".kefu-bot").filter(has_text="DD20261104010").first).to_be_visible(timeout=60_000)
    answers_so_far = await page.locator(".kefu-bot").count()
    payload = '<img src=x onerror="window.__xss=1"><b>bold</b>'
    await page.fill("#kefu-input", payload)
    await page.press("#kefu-input", "Enter")
    # The bot answers this one too; by then the payload has long been on the page.
    await page.wait_for_function(f"document.querySelectorAll('.kefu-bot').length > {answers_so_far}",
                                 timeout=60_000)
    bubble = page.locator(".kefu-customer").filter(has_text="onerror")
    assert await bubble.text_content() == payload
    assert await bubble.locator("img, b").count() == 0
    assert await page.evaluate("window.__xss") is None
