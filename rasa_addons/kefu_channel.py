"""Rasa's REST channel behind a bearer token, so only Kefu's gateway can talk to the bot.

Rasa's ``--auth-token`` guards its HTTP API but not channel webhooks; this channel closes that gap.
``POST /webhooks/kefu/turn`` answers one turn in one round trip: the replies together with what the NLU
understood and the slots after the turn (asking for the tracker afterwards would be a second request, and a
failure between the two would tempt the caller to send the turn again).
It runs inside Rasa's own environment (.venv-rasa), so it uses Sanic, not aiohttp.
"""
from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import json as json_response

from rasa_addons import action_validation

# Loaded by `rasa run` with the channel: action server answers are checked by a validator built once.
action_validation.install()


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
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            tracker = await request.app.ctx.agent.processor.get_tracker(sender)
            latest = tracker.latest_message.parse_data if tracker.latest_message else {}
            return json_response({"messages": collector.messages, "latest_message": latest,
                                  "slots": tracker.current_slot_values()})

        return blueprint
