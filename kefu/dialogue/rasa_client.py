"""Talks to the Rasa server over HTTP: one user turn in, the bot's replies and what it understood out."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from kefu.core.conversations import Understanding
from kefu.core.messages import Button

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error: the message stays queued and is retried."""


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class RasaTurn:
    replies: list[BotReply]
    understanding: Understanding
    slots: dict[str, Any] = field(default_factory=dict)


def _reply_from_rasa(raw: dict[str, Any]) -> BotReply | None:
    text = raw.get("text") or ""
    buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in raw.get("buttons") or [])
    if not text and not buttons:
        return None
    return BotReply(text=text, buttons=buttons)


def _understanding(parsed: dict[str, Any]) -> Understanding:
    intent = parsed.get("intent") or {}
    return Understanding(
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[
            {k: e.get(k) for k in ("entity", "value", "start", "end", "extractor")}
            for e in parsed.get("entities") or []
        ],
    )


class RasaClient:
    """Kefu's token-protected channel (rasa_addons/kefu_channel.py) plus Rasa's HTTP API (pause, resume)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout_s: float = 30.0) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.api_params = {"token": token}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as response:
                if response.status >= 400:
                    body = await response.text()
                    raise RasaUnavailable(f"{method} {path}: HTTP {response.status}: {body[:200]}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(f"{method} {path}: {error!r}") from error

    async def handle(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        """Run one user turn through NLU, dialogue and actions: one request (rasa_addons/kefu_channel.py)."""
        answer = await self._request(
            "POST",
            "/webhooks/kefu/turn",
            json={"sender": conversation_id, "message": text, "metadata": metadata},
            headers=self.headers,
        )
        if not isinstance(answer, dict):
            raise RasaUnavailable(f"unexpected answer from Rasa: {str(answer)[:200]}")
        replies = [r for r in map(_reply_from_rasa, answer.get("messages") or []) if r is not None]
        return RasaTurn(replies=replies, understanding=_understanding(answer.get("latest_message") or {}),
                        slots=answer.get("slots") or {})

    async def parse(self, text: str) -> Understanding:
        """NLU only (no dialogue, no tracker): what the model makes of a sentence."""
        return _understanding(await self._request("POST", "/model/parse", params=self.api_params, json={"text": text}))

    async def pause(self, conversation_id: str) -> None:
        """Stop Rasa's dialogue for this conversation while a person holds it (human takeover)."""
        await self._event(conversation_id, {"event": "pause"})

    async def resume(self, conversation_id: str) -> None:
        """Hand the conversation back to the bot."""
        await self._event(conversation_id, {"event": "resume"})

    async def _event(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self._request(
            "POST",
            f"/conversations/{quote(conversation_id, safe='')}/tracker/events",
            params=self.api_params | {"include_events": "NONE"},
            json=event,
        )

    async def is_ready(self) -> bool:
        """True when Rasa has a model loaded."""
        try:
            status = await self._request("GET", "/status", params=self.api_params)
        except RasaUnavailable:
            return False
        return bool(status.get("model_file"))
