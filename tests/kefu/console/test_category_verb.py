"""A complaint's category: set by the detector when the handoff opens (and when it escalates), shown in the
packet, corrected by the agent holding it or a supervisor through the ``category`` verb."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kefu.config.settings import Settings
from kefu.handoff.manager import HandoffManager
from tests.helpers.console import add_user, signed_in
from tests.helpers.gateway import running_gateway
from tests.kefu.console.rig import manager, opened, said  # noqa: F401  (fixture)
from tests.kefu.console.test_dashboard import gateway_settings


@pytest.fixture
async def category_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = gateway_settings(redis_url)
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def test_the_detector_sets_it_and_the_holder_corrects_it(
    category_gateway: Settings, manager: HandoffManager  # noqa: F811
) -> None:
    base = category_gateway.public_origin
    handoff = await opened(manager, "cust:c1001", "快递员把包裹扔在门口就走了,我要投诉", customer_id="c1001")
    assert (await manager.tickets.get(handoff.ticket_id)).category == "delivery"
    ann = await add_user(category_gateway.redis_url, "ann")
    bob = await add_user(category_gateway.redis_url, "bob")
    sue = await add_user(category_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "ann", ann) as agent, signed_in(base, "bob", bob) as other, \
            signed_in(base, "sue", sue) as supervisor:
        status, packet = await agent.get(f"/console/api/tickets/{handoff.ticket_id}")
        assert status == 200 and packet["ticket"]["category"] == "delivery"
        # only the holder (or a supervisor) may change it, to a known category
        assert (await agent.act(handoff.ticket_id, "category", category="product_quality"))[0] == 409
        assert (await agent.act(handoff.ticket_id, "claim"))[0] == 200
        assert (await other.act(handoff.ticket_id, "category", category="product_quality"))[0] in (404, 409)
        status, refused = await agent.act(handoff.ticket_id, "category", category="weather")
        assert status == 400 and refused["error"] == "category" and "product_quality" in refused["allowed"]
        assert await agent.act(handoff.ticket_id, "category", category="product_quality") == (
            200, {"ok": True, "result": {"ticket_id": handoff.ticket_id, "category": "product_quality"}})
        assert (await supervisor.act(handoff.ticket_id, "category", category="broken_promise"))[0] == 200
    assert (await manager.tickets.get(handoff.ticket_id)).category == "broken_promise"


async def test_an_escalation_recategorises(manager: HandoffManager) -> None:  # noqa: F811
    handoff = await opened(manager, "cust:c1003", "请帮我转人工", reason="human", customer_id="c1003")
    assert (await manager.tickets.get(handoff.ticket_id)).category == ""
    await manager.before(said("cust:c1003", "充电器插上就冒烟了,孩子的手被烫伤了", customer_id="c1003"))
    ticket = await manager.tickets.get(handoff.ticket_id)
    assert (ticket.reason, ticket.category) == ("safety", "burn")
