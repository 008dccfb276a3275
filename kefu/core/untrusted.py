"""Parsing what strangers send: JSON from a webhook, a websocket frame or a form, refused cleanly when bad.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on deeply nested input such as ``[[[[…``, and an
unguarded handler turns that into a 500 (found by ``python -m bench fuzz``). Every parse of untrusted JSON goes
through ``parse_json``, which refuses it as malformed instead.
"""
from __future__ import annotations

import json
from typing import Any


def parse_json(raw: str | bytes | bytearray) -> Any:
    """The parsed document; ``ValueError`` for anything that is not JSON, or is nested too deeply to parse."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
