"""A hand-back whose Rasa ``resume`` failed is retried until done; the agent sees it (issue 9, defect 9).

The live stack's Rasa holds the tracker; the failure is a Rasa that cannot be reached at the moment of the
hand-back (the manager's client pointed at a closed port), then Rasa is reachable again.
"""
from __future__ import annotations

import time

import aiohttp
import redis.asyncio as aioredis

from kefu.core.i18n import t
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.context import notes_subject
from kefu.handoff.resumes import PendingResumes
from kefu.handoff.state import Handoff
from kefu.ops.stack import free_port
from tests.helpers.pipeline_rig import Rig, eventually, live_rasa, rasa_paused, running_pipeline

__all__ = ["live_rasa"]

SHIPPING = "运费怎么算"


async def _handed_back_while_rasa_is_down(rig: Rig, live: RasaClient) -> Handoff:
    """A customer asks for a person (Rasa's tracker is paused), and the agent hands back while Rasa is away."""
    message = await rig.say("转人工")
    held = await eventually(lambda: rig.manager.store.holding(message.conversation_id), what="the handoff")
    await eventually(lambda: rasa_paused(rig.redis, held.conversation_id), what="Rasa's tracker paused")
    await rig.manager.claim(held.ticket_id, "amy", "Amy")
    async with aiohttp.ClientSession() as http:
        rig.manager.rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        await rig.manager.hand_back(held.ticket_id, "amy")
    rig.manager.rasa = live
    return held


async def _notes(rig: Rig, handoff: Handoff) -> list[str]:
    return [note["text"] for note in await rig.manager.store.notes(notes_subject(handoff))]


async def test_the_customer_writing_after_a_failed_hand_back_is_answered_by_the_bot(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        held = await _handed_back_while_rasa_is_down(rig, live_rasa)
        assert await rasa_paused(redis_client, held.conversation_id)
        assert await PendingResumes(redis_client).get(held.conversation_id) is not None
        failed = f"{t('reliability.resume_failed', 'zh')} / {t('reliability.resume_failed', 'en')}"
        assert failed in await _notes(rig, held)  # the agent sees it on the ticket
        await rig.say(SHIPPING, held.conversation_id)
        await rig.answered(held.conversation_id)  # not silent: resumed first, then answered
        assert not await rasa_paused(redis_client, held.conversation_id)
        assert await PendingResumes(redis_client).get(held.conversation_id) is None
        assert f"{t('reliability.resumed', 'zh')} / {t('reliability.resumed', 'en')}" in await _notes(rig, held)


async def test_a_failed_hand_back_is_retried_in_the_background_until_rasa_resumes(
    redis_client: aioredis.Redis, live_rasa: RasaClient,
) -> None:
    async with running_pipeline(redis_client, live_rasa) as rig:
        held = await _handed_back_while_rasa_is_down(rig, live_rasa)
        pending = PendingResumes(redis_client)
        item = await pending.get(held.conversation_id)
        assert item is not None and item.ticket_id == held.ticket_id
        # Not due yet (backoff), so nothing is tried; once due, one retry resumes Rasa's tracker.
        assert await rig.manager.retry_resumes(now=time.time()) == 0
        assert await rig.manager.retry_resumes(now=time.time() + 3600) == 1
        assert not await rasa_paused(redis_client, held.conversation_id)
        assert await pending.get(held.conversation_id) is None
        assert not await redis_client.zcard("kefu:handoff:resume")


async def test_retries_back_off_and_only_one_process_takes_a_due_item(redis_client: aioredis.Redis) -> None:
    pending = PendingResumes(redis_client)
    first = await pending.add("visitor:a", "T-1")
    later = await pending.add("visitor:b", "T-2", attempts=3)
    assert later - first > 30
    assert [item.conversation_id for item in await pending.claim_due(now=first + 1)] == ["visitor:a"]
    assert await pending.claim_due(now=first + 1) == []  # claimed: another process does not take it too
