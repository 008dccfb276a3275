"""Kefu's channel in a real Rasa: a turn sent again is answered, not run again; pause, resume, parse, status,
all behind the token, with Rasa's own HTTP API off (rasa_addons/kefu_channel.py, kefu/dialogue/rasa_client.py)."""
from __future__ import annotations

import uuid

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core.conversations import Understanding
from kefu.dialogue.rasa_client import RasaClient, RasaUnavailable
from tests.helpers.pipeline_rig import live_rasa, rasa_paused, user_turns

__all__ = ["live_rasa"]


async def test_a_turn_sent_again_with_its_key_is_answered_from_the_tracker(
    live_rasa: RasaClient, redis_client: aioredis.Redis,
) -> None:
    conversation = f"visitor:{uuid.uuid4().hex}"
    metadata = {"idempotency_key": uuid.uuid4().hex, "channel": "web"}
    first = await live_rasa.handle(conversation, "运费怎么算", metadata)
    again = await live_rasa.handle(conversation, "运费怎么算", metadata)
    assert first.replies and again.replies == first.replies
    assert again.understanding.intent == first.understanding.intent
    assert len(await user_turns(redis_client, conversation)) == 1
    # another key is another turn
    await live_rasa.handle(conversation, "运费怎么算", metadata | {"idempotency_key": uuid.uuid4().hex})
    assert len(await user_turns(redis_client, conversation)) == 2


async def test_pause_resume_parse_and_status_through_the_channel(
    live_rasa: RasaClient, redis_client: aioredis.Redis,
) -> None:
    conversation = f"visitor:{uuid.uuid4().hex}"
    await live_rasa.pause(conversation)
    assert await rasa_paused(redis_client, conversation)
    await live_rasa.resume(conversation)
    assert not await rasa_paused(redis_client, conversation)
    assert (await live_rasa.parse("how much is shipping")).intent
    assert await live_rasa.is_ready()


async def test_the_understanding_keeps_the_models_next_readings(live_rasa: RasaClient) -> None:
    """The blended model's ranking comes with the turn (fallback left out), so the handoff policy can hear a
    reason the model read second; it survives the round trip through the stored turn."""
    understanding = await live_rasa.parse("where is my parcel, it has not moved for days")
    assert 1 < len(understanding.ranking) <= 5 and "nlu_fallback" not in understanding.ranking
    assert all(0.0 <= conf <= 1.0 for conf in understanding.ranking.values())
    assert understanding.confidence_of(understanding.intent) == understanding.confidence
    second = sorted(understanding.ranking.items(), key=lambda item: -item[1])[1]
    assert understanding.confidence_of(second[0]) == second[1] and understanding.confidence_of("nope") == 0.0
    assert Understanding(**understanding.to_dict()) == understanding


async def test_rasa_http_api_is_off_and_the_channel_needs_the_token(stack_settings: Settings) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack_settings.rasa_url}/status",
                            params={"token": stack_settings.rasa_token}) as response:
            assert response.status in (403, 404)  # Rasa's API is not served at all
        wrong = RasaClient(http, stack_settings.rasa_url, "not-the-token")
        assert not await wrong.is_ready()
        with pytest.raises(RasaUnavailable):
            await wrong.parse("hello")
