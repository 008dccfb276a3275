"""Rasa's REST channel behind a bearer token, so only Kefu's gateway can talk to the bot, and all Kefu needs of
Rasa: Rasa's own HTTP API stays off (no ``--enable-api``, so no token on Rasa's command line).
``POST /webhooks/kefu/turn`` answers one turn in one round trip: the replies together with what the NLU
understood and the slots after the turn (asking for the tracker afterwards would be a second request, and a
failure between the two would tempt the caller to send the turn again). A turn sent again with the same
idempotency key (the caller's request timed out while Rasa went on) is answered from the tracker, not run twice.
``/parse`` (NLU only), ``/control`` (pause, resume) and ``/status`` are the rest, behind the same token.
It runs inside Rasa's own environment (.venv-rasa), so it uses Sanic, not aiohttp.
"""
from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint
from sanic.request import Request
from sanic.response import json as json_response

from rasa_addons import action_validation

# Loaded by `rasa run` with the channel: action server answers are checked by a validator built once.
action_validation.install()


CONTROL_EVENTS = {"pause": ConversationPaused, "resume": ConversationResumed}


def answered_turn(tracker: DialogueStateTracker, key: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The parse and the bot's messages of the user turn that carried ``key``, if the tracker has it."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and (event.metadata or {}).get("idempotency_key") == key:
            messages = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    messages.append({"recipient_id": tracker.sender_id, "text": later.text,
                                     **({"buttons": later.data["buttons"]} if later.data.get("buttons") else {})})
            return event.parse_data, messages
    return None


class KefuRestInput(RestInput):
    """``POST /webhooks/kefu/webhook`` with ``Authorization: Bearer <KEFU_RASA_TOKEN>``."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or os.environ.get("KEFU_RASA_TOKEN", "")
        if not self.token:
            raise ValueError("KEFU_RASA_TOKEN is not set: the Kefu channel refuses to run without a token")

    @classmethod
    def name(cls) -> str:
        return "kefu"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls((credentials or {}).get("token"))

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_token(request: Request) -> Any:
            sent = request.headers.get("Authorization", "")
            expected = f"Bearer {self.token}"
            if not hmac.compare_digest(sent.encode(), expected.encode()):
                return json_response({"error": "unauthorized"}, status=401)
            return None

        @blueprint.route("/turn", methods=["POST"])
        async def turn(request: Request) -> Any:
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return json_response({"error": "sender and message are required"}, status=400)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():  # Rasa would drop the message and answer nothing
                return json_response({"error": "no model loaded yet"}, status=503)
            key = metadata.get("idempotency_key")
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            # Under the conversation's lock, as Rasa's own handler runs a turn: a turn sent again with its key
            # (Kefu's request timed out while Rasa went on) finds the first run finished and is answered from
            # the tracker; checking outside the lock would let a retry overtake a run still queued for it.
            async with agent.lock_store.lock(sender, wait_time_in_seconds=0.05):
                answered = answered_turn(await agent.processor.get_tracker(sender), key) if key else None
                if answered is None:
                    await agent.processor.handle_message(message)
                tracker = await agent.processor.get_tracker(sender)
            if answered is not None:
                parsed, messages = answered
                return json_response({"messages": messages, "latest_message": parsed,
                                      "slots": tracker.current_slot_values(), "replayed": True})
            latest = tracker.latest_message.parse_data if tracker.latest_message else {}
            return json_response({"messages": collector.messages, "latest_message": latest,
                                  "slots": tracker.current_slot_values()})

        @blueprint.route("/parse", methods=["POST"])
        async def parse(request: Request) -> Any:
            """NLU only (what the model makes of a sentence), for messages people hold."""
            body = request.json if isinstance(request.json, dict) else {}
            if not isinstance(body.get("text"), str):
                return json_response({"error": "text is required"}, status=400)
            return json_response(await request.app.ctx.agent.parse_message(body["text"]))

        @blueprint.route("/control", methods=["POST"])
        async def control(request: Request) -> Any:
            """Pause the bot for a conversation people take over, or resume it when they hand it back."""
            body = request.json if isinstance(request.json, dict) else {}
            sender, event = body.get("sender"), CONTROL_EVENTS.get(body.get("event"))
            if not isinstance(sender, str) or not sender or event is None:
                return json_response({"error": "sender and event (pause or resume) are required"}, status=400)
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(sender, wait_time_in_seconds=0.05):
                tracker = await agent.processor.get_tracker(sender)
                tracker.update(event())
                await agent.processor.save_tracker(tracker)
            return json_response({"sender": sender, "paused": tracker.is_paused()})

        @blueprint.route("/status", methods=["GET"])
        async def status(request: Request) -> Any:
            agent = request.app.ctx.agent
            return json_response({"ready": bool(agent and agent.is_ready()),
                                  "model_id": agent.model_id if agent and agent.is_ready() else None})

        return blueprint
