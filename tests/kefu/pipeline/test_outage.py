"""A long Rasa outage (issue 9, defect 12; kefu/pipeline/outage.py), with the live stack's Rasa made unreachable
and reachable again: after the configured time a ``bot_unavailable`` handoff opens, once per conversation, and
the customer is told in their language; once Rasa is back the bot answers every message nobody took (each once),
and never one an agent took."""
from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.outage import OutageSettings
from kefu.config.settings import Settings
from kefu.core import keys
from kefu.core.i18n import t
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.state import Handoff
from kefu.ops.stack import free_port
from kefu.pipeline.outage import BOT_AGENT
from tests.helpers.pipeline_rig import Rig, eventually, running_pipeline, user_turns

SHIPPING = "运费怎么算"
RETURNS = "退货政策是什么"
PARCEL = "where is my parcel?"


@pytest.fixture
async def unreachable_rasa(stack_settings: Settings) -> AsyncIterator[RasaClient]:
    """A client of the live stack's Rasa that starts out pointed at a closed port (Rasa is down); a test points
    it back at Rasa (``base_url``) to bring Rasa back."""
    async with aiohttp.ClientSession() as http:
        yield RasaClient(http, f"http://127.0.0.1:{free_port()}", stack_settings.rasa_token, timeout_s=10)


async def held(rig: Rig, conversation_id: str) -> Handoff:
    async def holding() -> Handoff | None:
        return await rig.manager.store.holding(conversation_id)
    return await eventually(holding, 30, f"a handoff of {conversation_id}")


def system_texts(rig: Rig, conversation_id: str) -> list[str]:
    return [m.text for m in rig.to(conversation_id, "system")]


async def test_a_long_outage_offers_a_person_once_and_the_bot_answers_whom_nobody_took(
    redis_client: aioredis.Redis, unreachable_rasa: RasaClient, stack_settings: Settings,
) -> None:
    async with running_pipeline(redis_client, unreachable_rasa, outage=OutageSettings(1.0)) as rig:
        first = await rig.say(SHIPPING)
        waiting = await held(rig, first.conversation_id)
        assert waiting.reason == "bot_unavailable" and waiting.status == "waiting"
        # told at once that the message arrived, then (after the configured second) that a person is asked
        async def announced() -> list[str]:
            told = system_texts(rig, first.conversation_id)
            return told if any(t("takeover.taken", "zh", ticket=waiting.ticket_id) in text for text in told) else []
        told = await eventually(announced, 30, "the handoff announced to the customer")
        assert told[:2] == [t("gateway.unavailable", "zh"), t("outage.bot_unavailable", "zh")]

        again = await rig.say(RETURNS, first.conversation_id)  # the same customer writes again: no second ticket
        late = await rig.say(PARCEL)  # someone new, while the outage is old: offered a person at once
        taken = await held(rig, late.conversation_id)
        assert t("outage.bot_unavailable", "en") in system_texts(rig, late.conversation_id)
        assert t("gateway.unavailable", "en") not in system_texts(rig, late.conversation_id)
        await rig.manager.claim(taken.ticket_id, "ann", "Ann")  # an agent takes that one

        async def both_parked() -> bool:
            return set(await redis_client.hkeys(keys.outage_parked(waiting.ticket_id))) == {
                first.message_id, again.message_id}
        await eventually(both_parked, 30, "both messages of the first customer kept for the bot")
        ours = [h for h in await rig.manager.store.recent() if h.conversation_id == first.conversation_id]
        assert [h.ticket_id for h in ours] == [waiting.ticket_id]
        assert rig.to(first.conversation_id, "bot") == []

        unreachable_rasa.base_url = stack_settings.rasa_url.rstrip("/")  # Rasa is back

        async def settled() -> bool:
            return not await redis_client.smembers(keys.OUTAGE_PARKED) and len(
                await user_turns(redis_client, first.conversation_id)) == 2 and len(
                rig.to(first.conversation_id, "bot")) >= 2
        await eventually(settled, 90, "the bot answering both parked messages")
        returned = await rig.manager.store.get(waiting.ticket_id)
        assert returned is not None and (returned.status, returned.agent) == ("returned", BOT_AGENT)
        assert t("outage.bot_back", "zh", ticket=waiting.ticket_id) in system_texts(rig, first.conversation_id)
        # Rasa saw each message once, in order; the conversation an agent took never reached the bot
        assert [turn["text"] for turn in await user_turns(redis_client, first.conversation_id)] == [SHIPPING, RETURNS]
        assert await user_turns(redis_client, late.conversation_id) == []
        assert rig.to(late.conversation_id, "bot") == []
        still = await rig.manager.store.get(taken.ticket_id)
        assert still is not None and (still.status, still.agent) == ("assigned", "ann")


def test_the_time_is_configured_and_checked() -> None:
    assert OutageSettings.from_env({}).bot_unavailable_after_s == 60
    assert OutageSettings.from_env({"KEFU_BOT_UNAVAILABLE_AFTER_S": "0"}).enabled is False
    with pytest.raises(ValueError, match="KEFU_BOT_UNAVAILABLE_AFTER_S"):
        OutageSettings.from_env({"KEFU_BOT_UNAVAILABLE_AFTER_S": "soon"})


async def test_a_short_outage_is_waited_out_without_a_handoff(
    redis_client: aioredis.Redis, unreachable_rasa: RasaClient, stack_settings: Settings,
) -> None:
    async with running_pipeline(redis_client, unreachable_rasa, outage=OutageSettings(30.0)) as rig:
        message = await rig.say(SHIPPING)

        async def told_received() -> bool:
            return t("gateway.unavailable", "zh") in system_texts(rig, message.conversation_id)
        await eventually(told_received, 30, "the customer told the message was received")
        unreachable_rasa.base_url = stack_settings.rasa_url.rstrip("/")  # back well within the 30 s
        await rig.answered(message.conversation_id)
        assert await rig.manager.store.holding(message.conversation_id) is None
        assert t("outage.bot_unavailable", "zh") not in system_texts(rig, message.conversation_id)
        assert not await redis_client.exists(keys.RASA_DOWN_SINCE)  # the outage is over for everyone
