"""A command that finds no Redis says so and how to fix it, never printing the password in the URL."""
from __future__ import annotations

import pytest

from kefu.cli.redis_check import redis_missing
from kefu.ops.stack import free_port


def test_a_silent_redis_is_reported_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    assert redis_missing(f"redis://kefu:s3cret-pass@127.0.0.1:{free_port()}/0")
    said = capsys.readouterr().err
    assert "does not answer" in said and "127.0.0.1" in said
    assert "s3cret-pass" not in said


def test_a_redis_that_answers_passes(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not redis_missing(redis_url)
    assert capsys.readouterr().err == ""
