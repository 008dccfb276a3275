"""Talks to the Rasa server over HTTP: one user turn in, the bot's replies and what it understood out."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from kefu.core import metrics
from kefu.core.conversations import Understanding
from kefu.core.messages import Button

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error: the message stays queued and is retried."""


class RasaProtocolError(ValueError):
    """Rasa answered, but not in the shape of a turn: not an outage to wait out, so the pipeline's error
    boundary retries the message a few times and then hands it to a person (kefu/pipeline/boundary.py)."""


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class RasaTurn:
    replies: list[BotReply]
    understanding: Understanding
    slots: dict[str, Any] = field(default_factory=dict)


def _expect(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise RasaProtocolError(f"Rasa's {what} is {type(value).__name__}, not {kind.__name__}: {str(value)[:200]}")
    return value


def _reply_from_rasa(raw: Any) -> BotReply | None:
    raw = _expect(raw, dict, "message")
    text = raw.get("text") or ""
    buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", "")))
                    for b in _expect(raw.get("buttons") or [], list, "buttons") if _expect(b, dict, "button"))
    if not text and not buttons:
        return None
    return BotReply(text=str(text), buttons=buttons)


RANKING_KEPT = 5  # the model's next readings kept with a turn (the handoff reasons are among them when they matter)
FALLBACK_INTENT = "nlu_fallback"


def _understanding(parsed: Any) -> Understanding:
    parsed = _expect(parsed, dict, "parse")
    intent = _expect(parsed.get("intent") or {}, dict, "intent")
    return Understanding(
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[
            {k: e.get(k) for k in ("entity", "value", "start", "end", "extractor")}
            for e in _expect(parsed.get("entities") or [], list, "entities") if _expect(e, dict, "entity")
        ],
        ranking=_ranking(parsed),
    )


def _ranking(parsed: dict[str, Any]) -> dict[str, float]:
    ranked = [_expect(r, dict, "ranked intent") for r in _expect(parsed.get("intent_ranking") or [], list,
                                                                 "intent ranking")]
    kept = [r for r in ranked if r.get("name") not in (None, FALLBACK_INTENT)][:RANKING_KEPT]
    return {str(r["name"]): float(r.get("confidence") or 0.0) for r in kept}


class RasaClient:
    """Kefu's token-protected channel in Rasa (rasa_addons/kefu_channel.py): turns, NLU, pause and resume, status.
    Rasa's own HTTP API is not used (it stays off)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout_s: float = 30.0) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as response:
                if response.status >= 400:
                    body = await response.text()
                    metrics.rasa_error("http")
                    raise RasaUnavailable(f"{method} {path}: HTTP {response.status}: {body[:200]}")
                try:
                    return await response.json(content_type=None)
                except ValueError as error:  # 2xx, but not JSON
                    metrics.rasa_error("protocol")
                    raise RasaProtocolError(f"{method} {path}: not JSON: {error}") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            metrics.rasa_error("unreachable")
            raise RasaUnavailable(f"{method} {path}: {error!r}") from error

    async def handle(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        """Run one user turn through NLU, dialogue and actions: one request (rasa_addons/kefu_channel.py)."""
        answer = await self._request(
            "POST",
            "/webhooks/kefu/turn",
            json={"sender": conversation_id, "message": text, "metadata": metadata},
            headers=self.headers,
        )
        answer = _expect(answer, dict, "answer")
        messages = _expect(answer.get("messages") or [], list, "messages")
        replies = [r for r in map(_reply_from_rasa, messages) if r is not None]
        return RasaTurn(replies=replies, understanding=_understanding(answer.get("latest_message") or {}),
                        slots=_expect(answer.get("slots") or {}, dict, "slots"))

    async def parse(self, text: str) -> Understanding:
        """NLU only (no dialogue, no tracker): what the model makes of a sentence."""
        return _understanding(await self._request("POST", "/webhooks/kefu/parse", headers=self.headers,
                                                  json={"text": text}))

    async def pause(self, conversation_id: str) -> None:
        """Stop Rasa's dialogue for this conversation while a person holds it (human takeover)."""
        await self._control(conversation_id, "pause")

    async def resume(self, conversation_id: str) -> None:
        """Hand the conversation back to the bot."""
        await self._control(conversation_id, "resume")

    async def _control(self, conversation_id: str, event: str) -> None:
        await self._request("POST", "/webhooks/kefu/control", headers=self.headers,
                            json={"sender": conversation_id, "event": event})

    async def is_ready(self) -> bool:
        """True when Rasa has a model loaded."""
        try:
            status = await self._request("GET", "/webhooks/kefu/status", headers=self.headers)
        except (RasaUnavailable, RasaProtocolError):
            return False
        return isinstance(status, dict) and bool(status.get("ready"))
