"""A Redis tracker store that keeps Rasa's view of a conversation bounded, so a turn costs the same on day 300.

Kefu keeps one conversation per customer across channels and days, and Rasa's own Redis store keeps every event
forever: each turn reads, parses, merges and writes the whole history (and the policies walk it), so replies get
slower as a loyal customer keeps talking. Agents do not need Rasa's copy: Kefu keeps the full transcript in its
own store. This store keeps the newest ``max_events`` events (cut where a user turn begins) behind a prefix that
restores the state at the cut: the slots, a running loop, and the pause of a conversation people hold.

It also saves without reading: Rasa's store reads and merges the stored tracker on every save to keep the older
sessions that ``retrieve`` leaves out, which this store does not keep anyway (one session: Kefu's domain never
expires sessions). Runs inside Rasa's environment (.venv-rasa); configured in endpoints.yml.

It connects through ``redis_url`` (Kefu's ``REDIS_URL``: password, ``rediss://`` TLS and ``?ssl_ca_certs=`` in one
string) when given, so Rasa reaches Redis exactly as Kefu does; ``host``/``port``/``db`` still work without it.
"""
from __future__ import annotations

import logging
from typing import Any

import redis
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 200


def bounded_events(tracker: DialogueStateTracker, max_events: int) -> list[Event] | None:
    """The events to store instead of ``tracker.events``, or None when the history is within bounds.

    Trims to half the bound at once, so the cut (a copy of the events) happens once every ``max_events / 2``
    events rather than on every save.
    """
    events = list(tracker.events)
    if len(events) <= max_events:
        return None
    cut = _turn_start(events, len(events) - max_events // 2)
    if cut is None:
        return None
    tail = events[cut:]
    at = tail[0].timestamp
    prefix: list[Event] = [
        SlotSet(slot.name, slot.value, timestamp=at)
        for slot in tracker.slots.values()
        if slot.value != slot.initial_value
    ]
    if tracker.active_loop_name:
        prefix.append(ActiveLoop(tracker.active_loop_name, timestamp=at))
    if tracker.is_paused():
        prefix.append(ConversationPaused(timestamp=at))
    return prefix + tail


def _turn_start(events: list[Event], earliest: int) -> int | None:
    """The index of the ``action_listen`` that precedes the first user message at or after ``earliest``."""
    for index in range(max(earliest, 1), len(events)):
        before = events[index - 1]
        if isinstance(events[index], UserUttered) and isinstance(before, ActionExecuted) \
                and before.action_name == ACTION_LISTEN_NAME:
            return index - 1
    return None


class BoundedRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store with a bound on the events kept (``max_events`` in endpoints.yml)."""

    def __init__(self, domain: Domain, max_events: int | str = DEFAULT_MAX_EVENTS, redis_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        if redis_url:  # Rasa's client above is lazy (it never connected): replaced by one built from the URL
            self.red = redis.StrictRedis.from_url(redis_url, decode_responses=True)
        self.max_events = max(20, int(max_events or DEFAULT_MAX_EVENTS))

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        await self.stream_events(tracker)
        events = bounded_events(tracker, self.max_events)
        if events is not None:
            log.debug("conversation %s: %d events kept of %d", tracker.sender_id, len(events), len(tracker.events))
            tracker = DialogueStateTracker.from_events(tracker.sender_id, events, slots=self.domain.slots,
                                                       max_event_history=tracker._max_event_history)
        self.red.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(tracker),
                     ex=timeout or self.record_exp)
