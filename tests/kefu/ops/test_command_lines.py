"""Secrets travel in the environment, never on a command line (which every local user can read in ps): the
live stack's Rasa, action server and Redis command lines hold neither the Rasa token nor Redis's URL."""
from __future__ import annotations

from pathlib import Path

from kefu.config.settings import Settings


def command_lines() -> list[str]:
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # the process ended while we looked
            continue
    return lines


def test_no_command_line_holds_the_rasa_token_or_the_redis_url(live_stack: Settings) -> None:
    lines = command_lines()
    rasa = [line for line in lines if " run " in line and "--endpoints" in line]
    assert rasa, "the live stack's Rasa process is not running"
    assert not [line for line in lines if live_stack.rasa_token in line]
    assert not [line for line in rasa if live_stack.redis_url in line]
