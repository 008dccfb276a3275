"""``python -m kefu seed-demo`` writes demo orders only in demo mode: never into a configured Redis by mistake."""
from __future__ import annotations

import pytest
import redis

from kefu.cli.main import main


def test_seed_demo_refuses_a_configured_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("KEFU_DEMO", raising=False)
    assert main(["seed-demo"]) == 2
    assert "KEFU_DEMO" in capsys.readouterr().err
    assert redis.Redis.from_url(redis_url).dbsize() == 0


def test_seed_demo_with_explicit_demo_mode(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KEFU_DEMO", "1")
    assert main(["seed-demo"]) == 0
    assert redis.Redis.from_url(redis_url).dbsize() > 0
