"""How Kefu runs Rasa: how many Rasa processes answer, and how much history each conversation's tracker keeps."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse

from kefu.config.env import positive_integer

# One Rasa process per core answers best on this 2-core machine (README, "Performance"); more cores, more.
DEFAULT_RASA_PROCESSES = 2
# Events of one conversation Rasa keeps (rasa_addons/bounded_tracker_store.py): about 40 turns, far more than
# any rule looks back, and the turn's cost stops growing with the conversation. Agents read Kefu's transcript.
DEFAULT_RASA_MAX_EVENTS = 200


@dataclass(frozen=True)
class DialogueSettings:
    rasa_processes: int = 1
    rasa_max_events: int = DEFAULT_RASA_MAX_EVENTS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DialogueSettings:
        return cls(
            rasa_processes=positive_integer(env, "KEFU_RASA_PROCESSES", DEFAULT_RASA_PROCESSES),
            rasa_max_events=positive_integer(env, "KEFU_RASA_MAX_EVENTS", DEFAULT_RASA_MAX_EVENTS),
        )


def rasa_urls(base_url: str, processes: int) -> tuple[str, ...]:
    """The Rasa processes' URLs: ``base_url`` and the ports after it (``make run`` starts them there)."""
    parsed = urlparse(base_url)
    port = parsed.port or 5005
    host = parsed.hostname or "127.0.0.1"
    return tuple(urlunparse(parsed._replace(netloc=f"{host}:{port + index}")).rstrip("/")
                 for index in range(processes))
