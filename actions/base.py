"""KefuAction: the one base class; each concrete action only names its topic."""
from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions import runtime
from actions.flow import dispatch
from actions.turn import Turn
from kefu.orders.base import BackendUnavailable, OrderNotFound, ShopRefused

log = logging.getLogger(__name__)


class KefuAction(Action, abc.ABC):
    """Language, identity, pending questions, order resolution and error replies, shared by every action."""

    @property
    @abc.abstractmethod
    def topic(self) -> str:
        """The registered topic (actions.registry) this action answers."""

    def name(self) -> str:
        return f"action_{self.topic}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        turn = Turn.from_tracker(tracker, runtime.services())
        try:
            await dispatch(turn, self.topic)
        except BackendUnavailable as error:
            log.warning("%s: order system unavailable: %s", self.name(), error)
            turn.discard_replies()
            turn.say("error.backend_unavailable")
        except ShopRefused as error:
            log.info("%s: shop refused: %s", self.name(), error.reason)
            turn.discard_replies()
            turn.set_awaiting(None)
            turn.say("error.shop_refused")
        except OrderNotFound:
            turn.discard_replies()
            turn.set_awaiting(None)
            turn.say("order.not_found", id=turn.slot("order_id") or "")
        except (RedisError, OSError, LookupError, ValueError, TypeError):
            # Our own storage or data failed: log it fully, but the customer still gets an honest answer.
            log.exception("%s failed for conversation %s", self.name(), turn.identity.conversation_id)
            turn.discard_replies()
            turn.say("error.internal")
        if not turn.replies:
            turn.say("fallback.rephrase")
        return turn.flush(dispatcher)
