"""The offer of a person answered by typing (WeChat shows buttons as text): a plain yes right after the offer
opens the handoff it offered; anything else closes the offer. Real pipeline, real Rasa, real Redis."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import Understanding
from kefu.dialogue.rasa_client import RasaClient, RasaTurn
from tests.helpers.pipeline_rig import eventually, live_rasa, running_pipeline

__all__ = ["live_rasa"]

STUCK = RasaTurn(replies=[], understanding=Understanding(intent="nlu_fallback", confidence=0.3, entities=[]))


async def test_a_typed_yes_after_the_offer_opens_the_handoff(redis_client: aioredis.Redis,
                                                               live_rasa: RasaClient) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        first = await rig.say("运费怎么算")
        await rig.answered(first.conversation_id)
        await rig.manager.offer(first, STUCK)  # "shall I ask a colleague?"
        assert await redis_client.exists(keys.handoff_offer(first.conversation_id))
        await rig.say("好的", first.conversation_id)
        held = await eventually(lambda: rig.manager.store.holding(first.conversation_id), what="the handoff")
        assert (held.reason, held.priority) == ("human", "normal")
    assert not await redis_client.exists(keys.handoff_offer(first.conversation_id))


async def test_another_answer_closes_the_offer(redis_client: aioredis.Redis, live_rasa: RasaClient) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        first = await rig.say("运费怎么算")
        await rig.answered(first.conversation_id)
        await rig.manager.offer(first, STUCK)
        again = await rig.say("退货政策是什么", first.conversation_id)
        await eventually(lambda: _answered_after(rig, again.message_id), what="the bot's answer")
        assert not await redis_client.exists(keys.handoff_offer(first.conversation_id))
        late_yes = await rig.say("好的", first.conversation_id)  # a yes now answers nothing we offered
        await eventually(lambda: _answered_after(rig, late_yes.message_id), what="the bot's answer")
        assert await rig.manager.store.holding(first.conversation_id) is None


async def _answered_after(rig, message_id: str) -> bool:
    return any(m.message_id.startswith(f"{message_id}.") for m in rig.told)
