"""The topic registry: one entry per thing Kefu can do, looked up by name instead of if/elif chains."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from actions.turn import Turn
from kefu.orders.base import Order

Handler = Callable[[Turn, Order | None], Awaitable[None]]
Followup = Callable[[Turn, dict[str, Any]], Awaitable[None]]


@dataclass
class Topic:
    """How a topic answers a turn, and how it continues after the questions it asks.

    `on_text` receives the next message's text when the topic asked for free text (an address, an invoice
    title); `on_confirm` / `on_deny` run on yes / no to its confirmation question."""

    name: str
    handle: Handler
    needs_order: bool = False
    clears_awaiting: bool = False
    on_text: Followup | None = None
    on_confirm: Followup | None = None
    on_deny: Followup | None = None


TOPICS: dict[str, Topic] = {}


def topic(name: str, *, needs_order: bool = False, clears_awaiting: bool | None = None
          ) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of topic `name`."""
    def register(handler: Handler) -> Handler:
        if name in TOPICS:
            raise ValueError(f"topic {name!r} registered twice")
        TOPICS[name] = Topic(name, handler, needs_order,
                             needs_order if clears_awaiting is None else clears_awaiting)
        return handler
    return register


def _followup(attribute: str, name: str) -> Callable[[Followup], Followup]:
    def register(function: Followup) -> Followup:
        setattr(TOPICS[name], attribute, function)
        return function
    return register


def on_text(name: str) -> Callable[[Followup], Followup]:
    return _followup("on_text", name)


def on_confirm(name: str) -> Callable[[Followup], Followup]:
    return _followup("on_confirm", name)


def on_deny(name: str) -> Callable[[Followup], Followup]:
    return _followup("on_deny", name)
