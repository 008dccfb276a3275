"""In Debian's headless Chromium: a signed "shipped" event reaches the widget on the demo shop page, and a tap on
the satisfaction survey's buttons is stored."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.kefu.commitments.rig import Rig, event, eventually, running_rig

pytestmark = pytest.mark.browser



@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url, demo=True) as rig:  # the demo shop page is served in demo mode only
        yield rig




async def test_a_shipped_update_reaches_the_widget_and_a_survey_tap_is_stored(rig: Rig, browser: Browser) -> None:
    page = await browser.new_page(locale="zh-CN")
    await page.goto(f"{rig.base_url}/?as=c1001")
    await page.click("#kefu-launcher")
    await expect(page.locator("#kefu-status")).to_have_text("", timeout=15_000)  # welcomed: the socket is live

    status, answer = await rig.shop.post(event("shipped", carrier="SF", tracking_no="SF1400000077"))
    assert (status, answer["status"]) == (200, "sent")
    update = page.locator(".kefu-system").filter(has_text="SF1400000077")
    await expect(update).to_be_visible(timeout=15_000)
    await expect(update).to_contain_text("DD20261104002")
    await expect(update.locator("button")).to_have_text(["退订通知"])

    assert await rig.services.commitments.surveys.ask("cust:c1001", "web", "zh", ticket_id="T-100950", by="ann")
    survey = page.locator(".kefu-system").filter(has_text="您对本次服务满意吗")
    await expect(survey.locator("button")).to_have_text(["1", "2", "3", "4", "5"], timeout=15_000)
    await survey.locator("button", has_text="4").click()
    await expect(page.locator(".kefu-system").filter(has_text="4/5")).to_be_visible(timeout=15_000)
    rating = await eventually(lambda: rig.services.commitments.ratings.for_ticket("T-100950"))
    assert (rating.score, rating.by, rating.channel, rating.conversation_id) == (4, "ann", "web", "cust:c1001")
    # After a reload the update is still in the conversation (it is in the transcript, not only on the socket).
    await page.reload()
    await page.click("#kefu-launcher")
    await expect(page.locator(".kefu-system").filter(has_text="SF1400000077")).to_have_count(1, timeout=15_000)
