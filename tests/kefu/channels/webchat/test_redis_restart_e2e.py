"""The measured failure, end to end: Redis killed with SIGKILL and started again (from its AOF) while a customer's
socket is open; the real pipeline, Rasa and actions answer, and the reply still reaches that socket."""
from __future__ import annotations

import dataclasses

import pytest

from kefu.config.settings import Settings
from kefu.ops.stack import free_port
from tests.helpers.gateway import ChatClient, running_gateway
from tests.helpers.restartable_redis import restartable_redis
from tests.helpers.webchat import visitor

pytestmark = pytest.mark.stack


async def acked(client: ChatClient, text: str) -> None:
    """Send as the widget does: an ``unavailable`` keeps the message and sends it again (same id)."""
    for _ in range(50):
        answer = await client.send(text, message_id="after-restart")
        if answer["type"] == "ack":
            return
        assert answer["code"] == "unavailable", answer
    raise AssertionError("never acknowledged after the restart")


async def test_an_open_socket_gets_its_answer_after_redis_restarts(live_stack: Settings) -> None:
    with restartable_redis() as server:
        # The gateway and its pipeline on a Redis of their own (Rasa keeps its trackers on the session's).
        settings = dataclasses.replace(live_stack, redis_url=server.url, port=free_port())
        async with running_gateway(settings) as base_url, visitor(base_url) as customer:
            first = await customer.ask("你好")
            server.kill()
            server.start()
            await acked(customer, "谢谢")
            after = await customer.replies(1, timeout=90)
    assert first and after and after[0]["role"] == "bot" and after[0]["text"]
