"""Quality review in the console API: supervisors read the queue and score on the rubric; an agent may not
score, and reads only the reviews of their own conversations."""
from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.config.service_levels import ServiceLevels
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage
from kefu.core.reviews import QAQueue
from tests.helpers.console import add_user, signed_in
from tests.helpers.gateway import running_gateway
from tests.kefu.console.test_dashboard import gateway_settings

RUBRIC = {"right_answer": 4, "empathy": 3, "followed_rules": True, "promise_kept": False, "comment": "late callback"}


@pytest.fixture
async def qa_gateway(redis_url: str) -> AsyncIterator[Settings]:
    settings = dataclasses.replace(gateway_settings(redis_url), service_levels=ServiceLevels(qa_share=1.0))
    async with running_gateway(settings, run_pipeline=False):
        yield settings


async def sampled(redis: aioredis.Redis) -> tuple[str, str]:
    """One of ann's tickets and one bot exchange in the queue, with what was said."""
    await ConversationStore(redis).add_reply(OutboundMessage("cust:c1", "您好，已为您登记", role="agent", sent_at=1050.0),
                                             "web")
    qa = QAQueue(redis, 1.0, random.Random(0))
    agent = await qa.consider("T-100950", "agent", "cust:c1", "T-100950", "ann", "web", 1000.0, 1100.0)
    bot = await qa.consider("cust:c2@5.000", "bot", "cust:c2", "", "", "wechat", 5.0, 60.0)
    assert agent is not None and bot is not None
    return agent.id, bot.id


async def test_a_supervisor_scores_and_the_agent_reads_it(qa_gateway: Settings, redis_client: aioredis.Redis) -> None:
    base = qa_gateway.public_origin
    agent_item, bot_item = await sampled(redis_client)
    sue = await add_user(qa_gateway.redis_url, "sue", role="supervisor")
    ann = await add_user(qa_gateway.redis_url, "ann")
    async with signed_in(base, "sue", sue) as supervisor, signed_in(base, "ann", ann) as agent:
        status, queue = await supervisor.get("/console/api/qa/queue")
        assert status == 200
        assert {i["id"] for i in queue["waiting"]} == {agent_item, bot_item} and queue["reviewed"] == []
        status, opened = await supervisor.get(f"/console/api/qa/items/{agent_item}")
        assert status == 200 and [e["text"] for e in opened["transcript"]] == ["您好，已为您登记"]

        # the agent may neither read the queue nor score, nor open an item before it is reviewed
        assert (await agent.get("/console/api/qa/queue"))[0] == 403
        assert await agent.post(f"/console/api/qa/items/{agent_item}/review", RUBRIC) == (403, {"error": "supervisor"})
        assert (await agent.get(f"/console/api/qa/items/{agent_item}"))[0] == 404
        assert await agent.get("/console/api/qa/mine") == (200, {"reviews": []})

        status, saved = await supervisor.post(f"/console/api/qa/items/{agent_item}/review", RUBRIC)
        assert status == 200 and saved["item"]["review"]["reviewer"] == "sue"
        status, mine = await agent.get("/console/api/qa/mine")
        assert [(i["id"], i["review"]["comment"], i["review"]["promise_kept"]) for i in mine["reviews"]] == [
            (agent_item, "late callback", False)]
        assert (await agent.get(f"/console/api/qa/items/{agent_item}"))[0] == 200  # their own, reviewed
        assert (await agent.get(f"/console/api/qa/items/{bot_item}"))[0] == 404
        status, queue = await supervisor.get("/console/api/qa/queue")
        assert [i["id"] for i in queue["waiting"]] == [bot_item]
        assert [i["id"] for i in queue["reviewed"]] == [agent_item]


@pytest.mark.parametrize(("change", "error"), [
    ({"right_answer": 9}, "right_answer: a score from 1 to 5"),
    ({"followed_rules": None}, "followed_rules: true or false"),
])
async def test_a_score_off_the_rubric_is_a_400_and_changes_nothing(
    qa_gateway: Settings, redis_client: aioredis.Redis, change: dict, error: str
) -> None:
    base = qa_gateway.public_origin
    agent_item, _ = await sampled(redis_client)
    sue = await add_user(qa_gateway.redis_url, "sue", role="supervisor")
    async with signed_in(base, "sue", sue) as supervisor:
        assert await supervisor.post(f"/console/api/qa/items/{agent_item}/review", RUBRIC | change) == (
            400, {"error": error})
        assert await supervisor.post("/console/api/qa/items/qa-nothing/review", RUBRIC) == (
            404, {"error": "not_found"})
        _, queue = await supervisor.get("/console/api/qa/queue")
        assert len(queue["waiting"]) == 2 and queue["reviewed"] == []
