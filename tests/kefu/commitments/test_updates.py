"""Proactive updates within WeChat's rules, through the real gateway and WeChat's fake API: inside the 48-hour
window an update goes out at once; outside it (or refused for quota) it is kept and delivered, once, at the
customer's next contact."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core import keys
from tests.kefu.commitments.rig import Rig, event, eventually, running_rig

OPENID = "oLinkedCustomer"
CONVERSATION = "cust:c1001"


pytestmark = pytest.mark.stack  # the customer's next contact is answered by the real bot


@pytest.fixture
async def rig(stack_settings: Settings) -> AsyncIterator[Rig]:
    async with running_rig(stack_settings.redis_url, rasa_url=stack_settings.rasa_url,
                           rasa_token=stack_settings.rasa_token, actions_port=stack_settings.actions_port) as rig:
        answer = await rig.wechat_says(OPENID, "绑定 DD20261104001 5678")  # the WeChat user proves an order: c1001
        assert answer is not None and "绑定成功" in answer, answer
        yield rig


async def test_inside_the_window_an_update_goes_out_at_once(rig: Rig) -> None:
    status, answer = await rig.shop.post(event("shipped", carrier="JD", tracking_no="JDVA0000001"))
    assert (status, answer["status"]) == (200, "sent")
    texts = await eventually(lambda: _async(rig.wechat_api.texts_to(OPENID)))
    assert len(texts) == 1 and "京东物流" in texts[0] and "JDVA0000001" in texts[0]
    assert "退订通知" in texts[0]  # WeChat has no buttons: the opt-out command is shown as text


async def test_outside_the_window_the_update_waits_for_the_next_contact(rig: Rig, redis_client: aioredis.Redis) -> None:
    await redis_client.delete(keys.wechat_window(OPENID))  # 48 hours since the customer last wrote
    status, answer = await rig.shop.post(event("delivered"))
    assert (status, answer["status"]) == (200, "kept")
    assert rig.wechat_api.texts_to(OPENID) == []
    assert [update.kind for update in await rig.services.commitments.updates.pending(CONVERSATION)] == ["order"]

    passive = await rig.wechat_says(OPENID, "在吗")  # the customer is back: the window is open again
    told = await eventually(lambda: _async([text for text in [passive, *rig.wechat_api.texts_to(OPENID)]
                                            if text and "已签收" in text]))
    assert len(told) == 1
    assert await rig.services.commitments.updates.pending(CONVERSATION) == []
    await rig.wechat_says(OPENID, "还在吗")  # a later contact does not repeat it
    assert len([text for text in rig.wechat_api.texts_to(OPENID) if "已签收" in text]) + (passive and "已签收" in passive) == 1


async def test_an_update_refused_for_quota_is_kept_too(rig: Rig) -> None:
    rig.wechat_api.errors[OPENID] = 45047  # too many messages since the customer last wrote
    status, answer = await rig.shop.post(event("return_received"))
    assert (status, answer["status"]) == (200, "kept")
    del rig.wechat_api.errors[OPENID]
    passive = await rig.wechat_says(OPENID, "hello")
    await eventually(lambda: _async([text for text in [passive, *rig.wechat_api.texts_to(OPENID)]
                                     if text and "退货" in text]))


async def _async(value):
    return value
