"""The console refuses anyone not signed in: pages, API calls, websockets; and POSTs without CSRF or origin."""
from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.cli.main import main
from kefu.config.settings import Settings
from kefu.console.users import UserStore
from kefu.ops.stack import free_port
from tests.helpers.console import add_user, cookie_jar, signed_in
from tests.helpers.gateway import running_gateway


@pytest.fixture
async def console(redis_url: str) -> AsyncIterator[str]:
    """A gateway serving HTTP only (no pipeline, no Rasa needed) on a free port."""
    settings = Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}",
                        rasa_token=secrets.token_urlsafe(8), identity_secret=secrets.token_urlsafe(8),
                        port=free_port())
    async with running_gateway(settings, run_pipeline=False) as base_url:
        yield base_url


async def test_unauthenticated_pages_api_and_websocket_are_refused(console: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(console + "/console", allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == "/console/login"
        for path in ("/console/api/me", "/console/api/queue", "/console/api/tickets/T-100901"):
            async with http.get(console + path) as response:
                assert response.status == 401, path
        async with http.post(console + "/console/api/tickets/T-100901/claim", json={},
                             headers={"Origin": console}) as response:
            assert response.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(console + "/console/ws", headers={"Origin": console})
        assert refused.value.status == 401
        async with http.get(console + "/console/api/me", cookies={"kefu_console": "forged"}) as response:
            assert response.status == 401


async def test_sign_in_sets_a_hardened_cookie_and_wrong_passwords_fail(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "ann")
    async with aiohttp.ClientSession(cookie_jar=cookie_jar(console)) as http:
        async with http.post(console + "/console/login", json={"username": "ann", "password": "wrong-password"},
                             headers={"Origin": console}) as response:
            assert response.status == 401
        async with http.post(console + "/console/login", json={"username": "ann", "password": password},
                             headers={"Origin": "http://evil.example"}) as response:
            assert response.status == 403
        async with http.post(console + "/console/login", json={"username": "ann", "password": password},
                             headers={"Origin": console}) as response:
            assert response.status == 200
            cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie


async def test_posts_need_the_csrf_token_and_same_origin(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", password) as agent:
        status, _ = await agent.get("/console/api/queue")
        assert status == 200
        async with agent.http.post(console + "/console/api/presence", json={"status": "away"},
                                   headers={"Origin": console}) as response:
            assert response.status == 403  # no CSRF token
        async with agent.http.post(console + "/console/api/presence", json={"status": "away"},
                                   headers={"Origin": "http://evil.example", "X-CSRF-Token": agent.csrf}) as response:
            assert response.status == 403
        assert (await agent.post("/console/api/presence", {"status": "away"}))[0] == 200


async def test_cross_origin_websocket_gets_403_and_same_origin_gets_the_board(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "sue", "supervisor")
    async with signed_in(console, "sue", password) as agent:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await agent.http.ws_connect(console + "/console/ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        board = await agent.connect()
        assert board["type"] == "board" and board["me"] == {"user": "sue", "role": "supervisor"}
        assert "sue" in board["presence"]


async def test_users_cli_adds_an_account_from_stdin(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KEFU_RASA_TOKEN", "x")
    monkeypatch.setenv("KEFU_IDENTITY_SECRET", "y")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    assert await asyncio.to_thread(main, ["users", "add", "bob", "--role", "agent", "--password-stdin"]) == 0
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await UserStore(client).authenticate("bob", "a-long-password-1") is not None
        assert await UserStore(client).authenticate("bob", "a-long-password-2") is None
    finally:
        await client.aclose()
