"""The widget shows a limit's error frame as text, and keeps the refused message to send it again."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from kefu.config.settings import Settings
from kefu.config.webchat import WebChatSettings
from kefu.ops.stack import free_port
from tests.helpers.gateway import running_gateway

pytestmark = pytest.mark.browser


@pytest.fixture
async def gateway(redis_url: str) -> AsyncIterator[str]:
    """The demo page on a gateway that takes one message a minute per conversation (no Rasa needed)."""
    settings = Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                        identity_secret=secrets.token_hex(16), port=free_port(), demo=True,
                        webchat=WebChatSettings(messages_per_minute_per_conversation=1))
    async with running_gateway(settings, run_pipeline=False) as base_url:
        yield base_url




async def test_a_refused_message_is_explained_and_kept(gateway: str, browser: Browser) -> None:
    page = await browser.new_page(locale="zh-CN")
    await page.goto(f"{gateway}/?as=c1001")
    await page.click("#kefu-launcher")
    await page.fill("#kefu-input", "第一条")
    await page.press("#kefu-input", "Enter")
    await expect(page.locator(".kefu-customer:not(.kefu-pending)").filter(has_text="第一条")).to_have_count(1)
    await page.fill("#kefu-input", "第二条 <b>x</b>")
    await page.press("#kefu-input", "Enter")
    notice = page.locator(".kefu-error").filter(has_text="秒后自动发送")
    await expect(notice).to_have_count(1, timeout=10_000)
    assert await notice.locator("b").count() == 0  # text, never markup
    # Still pending, and still in the outbox: it goes out by itself once the minute is over.
    await expect(page.locator(".kefu-customer.kefu-pending").filter(has_text="第二条")).to_have_count(1)
    outbox = await page.evaluate("localStorage.getItem('kefu.outbox.c1001')")
    assert "第二条" in outbox
