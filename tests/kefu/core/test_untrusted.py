"""Untrusted JSON is parsed or refused as malformed, never crashing the handler (kefu/core/untrusted.py)."""
from __future__ import annotations

import pytest

from kefu.core.untrusted import parse_json


def test_json_is_parsed() -> None:
    assert parse_json(b'{"type": "message", "text": "\\u4f60\\u597d"}') == {"type": "message", "text": "你好"}


@pytest.mark.parametrize("raw", [b"{", b"", "[" * 100_000, '{"a":' * 100_000])
def test_malformed_or_too_deep_json_is_a_value_error(raw: str | bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)
