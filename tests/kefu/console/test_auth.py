"""The console refuses anyone not signed in: pages, API calls, websockets; and POSTs without CSRF or origin."""
from __future__ import annotations

import asyncio
import io
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from argon2 import PasswordHasher

from kefu.cli.main import main
from kefu.config.settings import Settings
from kefu.console.users import ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW_S, UserStore
from kefu.core import keys
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


async def test_api_errors_are_json_with_their_status(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", password) as agent:
        assert await agent.act("T-100901", "fly") == (404, {"error": "not_found"})
        # An unknown ticket is a 404 for every verb: ticket ids are sequential, a refusal must reveal nothing.
        for verb, body in (("claim", {}), ("note", {"text": "x"}), ("reply", {"text": ""})):
            assert await agent.act("T-100901", verb, **body) == (404, {"error": "not_found"})
        assert await agent.get("/console/api/tickets/T-100901") == (404, {"error": "not_found"})
        assert await agent.post("/console/api/presence", {"status": "asleep"}) == (400, {"error": "status"})
        # Malformed, and nested too deeply for Python's parser (a RecursionError was a 500: bench fuzz found it).
        for malformed in ("{", "[" * 30_000):
            async with agent.http.post(console + "/console/api/presence", data=malformed,
                                       headers={"Origin": console, "X-CSRF-Token": agent.csrf}) as response:
                assert (response.status, await response.json()) == (400, {"error": "bad_json"})


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


# -- limits on guessing passwords, and Argon2 off the event loop ------------------------------------------

async def sign_in(base_url: str, name: str, password: str, *,
                  local_host: str = "127.0.0.1") -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    """One login POST from ``local_host`` (any 127.x address reaches the loopback gateway as a distinct client)."""
    connector = aiohttp.TCPConnector(local_addr=(local_host, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(base_url + "/console/login", json={"username": name, "password": password},
                             headers={"Origin": base_url}) as response:
            return response.status, await response.json(content_type=None), response.headers


async def fail(base_url: str, name: str, times: int, **where: str) -> None:
    for _ in range(times):
        assert (await sign_in(base_url, name, "wrong-password", **where))[0] == 401


def assert_locked(result: tuple[int, Any, Any]) -> None:
    status, body, headers = result
    assert status == 429 and body["error"] == "locked", body
    assert 0 < body["retry_after"] <= FAILURE_WINDOW_S
    assert headers["Retry-After"] == str(body["retry_after"])


def counting_verify(monkeypatch: pytest.MonkeyPatch, before: Callable[[], None] = lambda: None) -> list[int]:
    """Wrap Argon2 verification; returns the thread ids it ran on (``before`` runs first, in that thread)."""
    threads: list[int] = []
    real = PasswordHasher.verify

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        threads.append(threading.get_ident())
        before()
        return real(self, hash, password)
    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return threads


async def test_failures_lock_the_account_even_for_the_right_password(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "ann")
    other = await add_user(redis_url, "bob")
    await fail(console, "ann", ACCOUNT_FAILURES)
    assert_locked(await sign_in(console, "ann", password))
    assert_locked(await sign_in(console, "ANN ", password))  # the same account however it is typed
    assert (await sign_in(console, "bob", other))[0] == 200  # per account: bob is not locked with ann


async def test_the_lock_ends_with_its_window(console: str, redis_url: str, redis_client: aioredis.Redis) -> None:
    password = await add_user(redis_url, "ann")
    await fail(console, "ann", ACCOUNT_FAILURES)
    assert 0 < await redis_client.ttl(keys.console_login_failures("ann")) <= FAILURE_WINDOW_S
    await redis_client.pexpire(keys.console_login_failures("ann"), 1)
    await asyncio.sleep(0.05)
    assert (await sign_in(console, "ann", password))[0] == 200


async def test_unknown_accounts_count_like_wrong_passwords(console: str, monkeypatch: pytest.MonkeyPatch) -> None:
    verified = counting_verify(monkeypatch)
    await fail(console, "ghost", ACCOUNT_FAILURES)
    assert len(verified) == ACCOUNT_FAILURES  # a dummy hash is verified, so timing does not tell who exists
    assert_locked(await sign_in(console, "ghost", "anything-at-all"))
    assert len(verified) == ACCOUNT_FAILURES  # a locked attempt does not verify at all


async def test_concurrent_guesses_cannot_slip_past_the_limit(console: str, redis_url: str) -> None:
    await add_user(redis_url, "ann")
    results = await asyncio.gather(*(sign_in(console, "ann", f"guess-{n}") for n in range(4 * ACCOUNT_FAILURES)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [401] * ACCOUNT_FAILURES + [429] * (3 * ACCOUNT_FAILURES)


async def test_a_success_resets_only_that_accounts_counter(console: str, redis_url: str) -> None:
    ann, bob = await add_user(redis_url, "ann"), await add_user(redis_url, "bob")
    await fail(console, "ann", ACCOUNT_FAILURES - 1)
    await fail(console, "bob", ACCOUNT_FAILURES - 1)
    assert (await sign_in(console, "ann", ann))[0] == 200
    await fail(console, "ann", ACCOUNT_FAILURES - 1)  # ann starts again from zero
    await fail(console, "bob", 1)
    assert_locked(await sign_in(console, "bob", bob))  # bob's failures were kept


async def test_the_address_limit_spans_accounts_and_a_success_does_not_reset_it(console: str, redis_url: str) -> None:
    password = await add_user(redis_url, "ann")
    for n in range(ADDRESS_FAILURES):
        await fail(console, f"victim{n}", 1)
        if n == ADDRESS_FAILURES // 2:
            assert (await sign_in(console, "ann", password))[0] == 200  # knowing one account buys no guesses
    assert_locked(await sign_in(console, "ann", password))
    assert_locked(await sign_in(console, "victim-new", "wrong-password"))
    assert (await sign_in(console, "ann", password, local_host="127.0.0.2"))[0] == 200  # per address


async def test_argon2_runs_in_a_thread_and_the_loop_keeps_serving(console: str, redis_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification is held in its thread until the test lets it go; meanwhile the gateway must still answer.

    On the event loop the held verification would block the loop, the page request would time out,
    and the verification's own wait would give up (so a regression fails instead of hanging).
    """
    password = await add_user(redis_url, "ann")
    release = threading.Event()
    verified = counting_verify(monkeypatch, before=lambda: release.wait(timeout=5))
    logins = [asyncio.create_task(sign_in(console, "ann", password)) for _ in range(3)]
    try:
        async with asyncio.timeout(30):
            while len(verified) < len(logins):
                await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as http:
            async with http.get(console + "/console/login", timeout=aiohttp.ClientTimeout(total=3)) as page:
                assert page.status == 200
        assert not any(login.done() for login in logins)
    finally:
        release.set()
    assert [status for status, _, _ in await asyncio.gather(*logins)] == [200] * len(logins)
    assert threading.get_ident() not in verified
