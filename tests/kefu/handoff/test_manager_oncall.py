"""Safety never waits (issue 12 #8): a safety report outside working hours, or with no safety agent online,
pages the helpdesk webhook and the on-call contact, and the customer is told honestly that a specialist was
alerted; "outside hours" is said only when no agent is online."""
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from aiohttp import web

from kefu.config.errors import SettingsError
from kefu.config.handoff import HandoffSettings
from kefu.core.i18n import t
from kefu.handoff.manager import ONCALL_FOLLOWUP_S, HandoffManager
from kefu.ops.stack import free_port
from tests.helpers.settings import ALWAYS_OPEN
from tests.kefu.console.rig import manager, manager_with, opened  # noqa: F401  (fixture)

BURN = "充电宝充电时冒烟了，还烫伤了孩子的手"


def closed_now() -> HandoffSettings:
    """Working hours that exclude this moment (a one-hour window twelve hours away)."""
    local = datetime.now(UTC).astimezone(ALWAYS_OPEN.tz)
    start = (local + timedelta(hours=12)).replace(minute=0, second=0, microsecond=0).time()
    if start.hour == 23:
        start = time(22, 0)
    return HandoffSettings(opens=start, closes=time(start.hour + 1, 0))


class Pager:
    """A loopback HTTP endpoint standing in for the pager service and the helpdesk: keeps what was POSTed."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[str, str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((request.path, request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"ok": self.status < 300}, status=self.status)


@pytest.fixture
async def pager() -> AsyncIterator[tuple[Pager, str]]:
    found = Pager()
    app = web.Application()
    app.router.add_post("/{name}", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield found, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def paging(settings: HandoffSettings, base: str) -> HandoffSettings:
    return dataclasses.replace(settings, oncall_url=f"{base}/oncall", oncall_token="page-token",
                               webhook_url=f"{base}/helpdesk", webhook_token="desk-token")


def told(manager: HandoffManager) -> str:  # noqa: F811
    return manager.delivery.senders["web"].told[-1].text


async def test_a_safety_report_at_night_pages_on_call_and_says_so(
    manager: HandoffManager, pager: tuple[Pager, str]  # noqa: F811
) -> None:
    found, base = pager
    night = manager_with(manager, paging(closed_now(), base))
    handoff = await opened(night, "cust:c1001", BURN, "safety", customer_id="c1001")
    text = told(night)
    assert text.startswith(t("takeover.safety_guidance", "zh"))
    assert t("oncall.safety_paged", "zh", ticket=handoff.ticket_id) in text
    assert "起在这里联系您" not in text  # not "we will contact you from 09:00"
    pages = {path: (auth, body) for path, auth, body in found.got}
    assert pages["/oncall"][0] == "Bearer page-token" and pages["/helpdesk"][0] == "Bearer desk-token"
    page = pages["/oncall"][1]
    assert (page["type"], page["why"], page["ticket"], page["trigger_text"]) == (
        "safety_page", "outside_hours", handoff.ticket_id, BURN)
    assert pages["/helpdesk"][1]["page"] == page and pages["/helpdesk"][1]["ticket"]["id"] == handoff.ticket_id
    assert len(found.got) == 2  # the helpdesk got the packet once, with the page
    followup = await night.followups.get(handoff.ticket_id)
    assert followup is not None and followup.due_at - handoff.created_at == pytest.approx(ONCALL_FOLLOWUP_S, abs=5)


async def test_in_hours_with_no_safety_agent_online_pages_too(
    manager: HandoffManager, pager: tuple[Pager, str]  # noqa: F811
) -> None:
    found, base = pager
    day = manager_with(manager, paging(ALWAYS_OPEN, base))
    await day.set_presence("ann", "online", "agent", "general")
    handoff = await opened(day, "cust:c1001", BURN, "safety", customer_id="c1001")
    assert t("oncall.safety_paged", "zh", ticket=handoff.ticket_id) in told(day)
    assert {body["why"] for path, _, body in found.got if path == "/oncall"} == {"no_safety_agent_online"}


async def test_a_safety_agent_online_in_hours_takes_it_without_a_page(
    manager: HandoffManager, pager: tuple[Pager, str]  # noqa: F811
) -> None:
    found, base = pager
    day = manager_with(manager, paging(ALWAYS_OPEN, base))
    await day.set_presence("sam", "online", "agent", "general,safety")
    await opened(day, "cust:c1001", BURN, "safety", customer_id="c1001")
    assert "在线客服 1 位" in told(day)
    assert not [path for path, _, _ in found.got if path == "/oncall"]


async def test_a_page_nobody_answered_is_not_claimed(
    manager: HandoffManager, pager: tuple[Pager, str]  # noqa: F811
) -> None:
    found, base = pager
    found.status = 503
    night = manager_with(manager, paging(closed_now(), base))
    handoff = await opened(night, "cust:c1001", BURN, "safety", customer_id="c1001")
    assert t("oncall.safety_paged", "zh", ticket=handoff.ticket_id) not in told(night)
    assert "起在这里联系您" in told(night)  # the honest fallback: when agents start
    unpaged = manager_with(manager, closed_now())  # nothing configured: nobody can be paged
    other = await opened(unpaged, "cust:c1002", "my power bank caught fire and burned my hand", "safety",
                         customer_id="c1002")
    assert "alerted" not in told(unpaged) and other.ticket_id in told(unpaged)


async def test_outside_hours_is_said_only_when_no_agent_is_online(manager: HandoffManager) -> None:  # noqa: F811
    night = manager_with(manager, closed_now())
    await night.set_presence("ann", "online", "agent", "general")
    handoff = await opened(night, "cust:c1002", "I want to file a formal complaint", customer_id="c1002")
    assert "colleagues are online" in told(night) and "we will contact you here from" not in told(night)
    assert await night.followups.get(handoff.ticket_id) is None  # nothing was promised
    await night.drop_presence("ann")
    alone = await opened(night, "cust:c1004", "I want to file a formal complaint", customer_id="c1004")
    assert "we will contact you here from" in told(night)
    assert await night.followups.get(alone.ticket_id) is not None


def test_the_on_call_contact_comes_from_the_environment() -> None:
    env = {"KEFU_ONCALL_WEBHOOK_URL": "https://pager.example/hooks/kefu", "KEFU_ONCALL_WEBHOOK_TOKEN": "s3cret"}
    settings = HandoffSettings.from_env(env, ALWAYS_OPEN.tz)
    assert (settings.oncall_url, settings.oncall_token, settings.pager) == (env["KEFU_ONCALL_WEBHOOK_URL"], "s3cret",
                                                                            True)
    assert not HandoffSettings.from_env({}, ALWAYS_OPEN.tz).pager
    with pytest.raises(SettingsError, match="KEFU_ONCALL_WEBHOOK_URL"):
        HandoffSettings.from_env({"KEFU_ONCALL_WEBHOOK_URL": "pager.example"}, ALWAYS_OPEN.tz)
