"""The console's live socket across a Redis restart: a fresh board, then events as before."""
from __future__ import annotations

import contextlib
import secrets

import aiohttp

from kefu.config.settings import Settings
from kefu.ops.stack import free_port
from tests.helpers.console import Agent, add_user, signed_in
from tests.helpers.gateway import running_gateway
from tests.helpers.restartable_redis import pubsub_clients, restartable_redis


async def connect_after_restart(agent: Agent) -> None:
    """Like the console page: a socket the gateway closes at once (a pooled Redis connection to the killed
    server failing once) is opened again."""
    for _ in range(10):
        with contextlib.suppress(aiohttp.WSMessageTypeError):
            if (await agent.connect())["type"] == "board":
                return
    raise AssertionError("the console socket never opened after the restart")


async def test_console_gets_a_fresh_board_and_later_events_after_redis_restarts() -> None:
    with restartable_redis() as server:
        settings = Settings(redis_url=server.url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                            identity_secret=secrets.token_hex(8), port=free_port())
        sue, bob = await add_user(server.url, "sue", "supervisor"), await add_user(server.url, "bob")
        async with running_gateway(settings, run_pipeline=False) as base_url, \
                signed_in(base_url, "sue", sue) as supervisor:
            assert (await supervisor.connect())["type"] == "board"
            server.kill()
            server.start()
            fresh = await supervisor.wait_for(lambda event: event["type"] == "board", timeout=30)
            assert fresh["me"]["user"] == "sue"
            # The console's subscription is back (beside web chat's pattern subscription).
            assert [c["sub"] for c in pubsub_clients(server.url) if c["sub"] != "0"] == ["1"]
            async with signed_in(base_url, "bob", bob) as agent:
                await connect_after_restart(agent)
                seen = await supervisor.wait_for(
                    lambda event: event["type"] == "presence" and event.get("agent") == "bob", timeout=30)
    assert seen["status"] == "online"
