"""Redis over TLS with a password, through REDIS_URL alone (kefu/config/redis_url.py): Kefu's client and Rasa's
tracker and lock stores (endpoints.yml, rasa_addons/) reach a TLS-only redis-server; a wrong password, a missing
CA and a plain URL on the TLS port each give an error that says so, without the password."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from actions.runtime import ActionServerSettings
from actions.runtime import Services as ActionServices
from kefu.config.redis_url import redis_url
from kefu.config.settings import PROJECT_ROOT, Settings
from kefu.ops.model import RASA_BIN, rasa_env
from kefu.ops.stack import Stack, StackError, check_redis, redis_answers
from tests.helpers.tls_redis import TlsRedis, tls_redis

SCRIPT = PROJECT_ROOT / "tests" / "rasa_addons" / "check_redis_tls.py"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    with tls_redis(tmp_path_factory.mktemp("tls-redis")) as server:
        yield server


async def test_kefu_reaches_a_tls_redis_with_the_password_and_its_ca(tls_server: TlsRedis) -> None:
    url = redis_url({"REDIS_URL": tls_server.url(), "KEFU_REDIS_CA": str(tls_server.ca_file)})
    check_redis(url)
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        await client.set("kefu:tls-check", "你好")
        assert await client.get("kefu:tls-check") == "你好"
        assert (await client.connection_pool.get_connection()).__class__.__name__ == "SSLConnection"
    finally:
        await client.aclose()
    # the CA may be given in the URL instead
    check_redis(f"{tls_server.url()}?ssl_ca_certs={tls_server.ca_file}")


async def test_the_action_server_reaches_it_from_the_same_environment(tls_server: TlsRedis) -> None:
    """The action server reads REDIS_URL and KEFU_REDIS_CA as the gateway does; a child given the URL the parent
    made (the CA already in it) and the same KEFU_REDIS_CA reads the same URL."""
    env = {"REDIS_URL": tls_server.url(), "KEFU_REDIS_CA": str(tls_server.ca_file)}
    settings = ActionServerSettings.from_env(env)
    assert ActionServerSettings.from_env(env | {"REDIS_URL": settings.redis_url}) == settings
    services = ActionServices.from_settings(settings)
    try:
        assert await services.redis.ping() is True
    finally:
        await services.close()


@pytest.mark.parametrize(("url", "said"), [
    (lambda s: f"{s.url('not-the-password')}?ssl_ca_certs={s.ca_file}", "refused the password"),
    (lambda s: f"rediss://127.0.0.1:{s.port}/0?ssl_ca_certs={s.ca_file}", "needs a password"),
    (lambda s: s.url(), "TLS certificate is not trusted"),
    (lambda s: f"redis://default:{s.password}@127.0.0.1:{s.port}/0", "does not answer"),
])
def test_a_wrong_way_in_gives_a_clear_error_without_the_password(tls_server: TlsRedis, url, said: str) -> None:
    with pytest.raises(StackError) as refused:
        check_redis(url(tls_server))
    assert said in str(refused.value)
    assert "not-the-password" not in str(refused.value) and tls_server.password not in str(refused.value)
    assert redis_answers(url(tls_server)) is False


def test_make_run_does_not_start_a_redis_over_one_that_refused_it(tls_server: TlsRedis, tmp_path: Path) -> None:
    """A wrong password is an error to fix, not a missing Redis to start (which would take the port's place)."""
    settings = Settings(redis_url=f"{tls_server.url('wrong')}?ssl_ca_certs={tls_server.ca_file}",
                        rasa_url="http://127.0.0.1:1", rasa_token="t", identity_secret="s")
    stack = Stack(settings, tmp_path, log_dir=tmp_path)
    with pytest.raises(StackError, match="refused the password"):
        stack.start_redis_if_needed()
    assert stack.children == []


def test_rasa_tracker_and_lock_stores_reach_a_tls_redis_from_endpoints_yml(tls_server: TlsRedis) -> None:
    good = redis_url({"REDIS_URL": tls_server.url(), "KEFU_REDIS_CA": str(tls_server.ca_file)})
    bad = redis_url({"REDIS_URL": tls_server.url("not-the-password"), "KEFU_REDIS_CA": str(tls_server.ca_file)})
    result = subprocess.run([str(RASA_BIN.parent / "python"), str(SCRIPT), good, bad], cwd=PROJECT_ROOT,
                            env=rasa_env(), capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["store"] == "BoundedRedisTrackerStore" and report["lock_store"] == "UrlRedisLockStore"
    assert report["latest"] == "hello over tls" and report["order_id"] == "DD1" and report["locked"] is True
    assert report["wrong_password"].startswith("AuthenticationError"), report
