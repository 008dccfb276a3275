"""Rasa's copy of a long conversation stays bounded and keeps its state (rasa_addons/bounded_tracker_store.py)."""
from __future__ import annotations

import json
import subprocess

from kefu.config.settings import PROJECT_ROOT
from kefu.ops.model import RASA_BIN, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "rasa_addons" / "check_bounded_tracker_store.py"
MAX_EVENTS = 60


def test_a_long_conversation_keeps_a_bounded_tracker_with_its_state(redis_url: str) -> None:
    python = RASA_BIN.parent / "python"
    result = subprocess.run([str(python), str(SCRIPT), redis_url, str(MAX_EVENTS)], cwd=PROJECT_ROOT,
                            env=rasa_env(), capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # 300 turns are 1,200 events; the store never holds more than the bound plus the state prefix
    assert report["max_size"] <= MAX_EVENTS + 3, report
    assert report["last_size"] >= MAX_EVENTS // 2, report
    # the state at the cut survives: a slot set in turn 3, the pause of turn 200, and the newest turns in order
    assert report["order_id"] == "DD20260001"
    assert report["paused"] is True
    assert report["latest"] == "message 299"
    assert report["last_texts"] == ["message 297", "message 298", "message 299"]
    # a short conversation is stored as it is
    assert report["short_untouched"] is True
