"""Runs inside .venv-rasa: the bounded tracker store as Rasa uses it, on a real Redis. Prints one JSON line.

Used by tests/rasa_project/test_bounded_tracker_store.py (the test suite itself runs on .venv's Python)."""
from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import urlparse

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.bounded_tracker_store import BoundedRedisTrackerStore

TURNS = 300


def turn(index: int) -> list:
    return [ActionExecuted("action_listen", timestamp=index), UserUttered(f"message {index}", timestamp=index),
            ActionExecuted("utter_greet", timestamp=index), BotUttered(f"answer {index}", timestamp=index)]


async def main(redis_url: str, max_events: int) -> None:
    parsed = urlparse(redis_url)
    domain = Domain.load("domain.yml")
    store = BoundedRedisTrackerStore(domain, max_events=max_events, host=parsed.hostname, port=parsed.port,
                                     db=int(parsed.path.lstrip("/") or 0), key_prefix="check")
    tracker = DialogueStateTracker("long", domain.slots)
    sizes = []
    for index in range(TURNS):
        for event in turn(index):
            tracker.update(event)
        if index == 3:  # set early, never set again: must survive every cut
            tracker.update(SlotSet("order_id", "DD20260001", timestamp=index))
        if index == 200:  # people took the conversation over: the pause must survive too
            tracker.update(ConversationPaused(timestamp=index))
        await store.save(tracker)
        tracker = await store.retrieve("long")
        sizes.append(len(tracker.events))
    short = DialogueStateTracker("short", domain.slots)
    for event in turn(0):
        short.update(event)
    await store.save(short)
    kept = await store.retrieve("short")
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    print(json.dumps({
        "max_size": max(sizes), "last_size": sizes[-1], "order_id": tracker.get_slot("order_id"),
        "paused": tracker.is_paused(), "latest": tracker.latest_message.text, "last_texts": texts[-3:],
        "short_untouched": len(kept.events) == len(short.events),
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
