"""Runs inside .venv-rasa: Rasa's tracker and lock stores built from endpoints.yml, as `rasa run` builds them, with
REDIS_URL from the environment (the test points it at a TLS Redis with a password). Prints one JSON line: the
tracker saved and read back, a lock taken, and what a wrong password gives."""
from __future__ import annotations

import asyncio
import json
import os
import sys

from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import read_endpoints_from_path
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


async def round_trip(domain: Domain) -> dict:
    endpoints = read_endpoints_from_path("endpoints.yml")
    store = TrackerStore.create(endpoints.tracker_store, domain)
    tracker = DialogueStateTracker("tls-check", domain.slots)
    for event in (ActionExecuted("action_listen"), UserUttered("hello over tls"), SlotSet("order_id", "DD1")):
        tracker.update(event)
    await store.save(tracker)
    kept = await store.retrieve("tls-check")
    locks = LockStore.create(endpoints.lock_store)
    async with locks.lock("tls-check"):
        locked = locks.get_lock("tls-check") is not None
    return {"store": type(store).__name__, "lock_store": type(locks).__name__,
            "latest": kept.latest_message.text if kept else None, "order_id": kept.get_slot("order_id") if kept else None,
            "locked": locked}


async def main(good_url: str, bad_url: str) -> None:
    domain = Domain.load("domain.yml")
    os.environ["REDIS_URL"] = good_url
    result = await round_trip(domain)
    os.environ["REDIS_URL"] = bad_url
    try:
        await round_trip(domain)
        result["wrong_password"] = "accepted"
    except Exception as error:  # noqa: BLE001 - what Rasa would log is the answer
        result["wrong_password"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("KEFU_RASA_MAX_EVENTS", "200")
    os.environ.setdefault("KEFU_ACTIONS_PORT", "5055")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
