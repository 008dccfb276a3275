"""One user turn as the actions see it: what was said, by whom, in which language, and what to answer."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import Identity
from actions.runtime import Services
from kefu.core.i18n import detect_language, has, language_of, t


def _idempotency_key(metadata: Any) -> str | None:
    key = metadata.get("idempotency_key") if isinstance(metadata, dict) else None
    return str(key) if key else None


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Turn:
    """Collects replies and slot changes so the shared flow can flush them once (or replace them on error)."""

    text: str
    intent: str
    entities: dict[str, list[str]]
    message_lang: str | None
    lang: str
    identity: Identity
    slots: dict[str, Any]
    services: Services
    # The question this turn answers when it continues an earlier topic (the slot `awaiting` it had).
    resumed: dict[str, Any] | None = None
    replies: list[Reply] = field(default_factory=list)
    slot_changes: dict[str, Any] = field(default_factory=dict)
    # The customer message's idempotency key (kefu/core/inbox.py), sent by the pipeline with every turn.
    idempotency_key: str | None = None
    confidence: float = 0.0  # the NLU model's confidence in ``intent``

    @classmethod
    def from_tracker(cls, tracker: Tracker, services: Services) -> Turn:
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        entities: dict[str, list[str]] = {}
        for entity in message.get("entities") or ():
            if entity.get("value") is not None:
                entities.setdefault(entity.get("entity", ""), []).append(str(entity["value"]))
        message_lang = detect_language(text)
        remembered = tracker.get_slot("lang")
        lang = language_of(text, remembered)  # "ok" / "好的" say nothing about the language: the conversation's
        slots = dict(tracker.slots or {})
        turn = cls(
            text=text,
            intent=str((message.get("intent") or {}).get("name") or ""),
            entities=entities,
            message_lang=message_lang,
            lang=lang,
            identity=Identity.from_metadata(message.get("metadata"), tracker.sender_id,
                                            slots.get("verified_orders")),
            slots=slots,
            services=services,
            idempotency_key=_idempotency_key(message.get("metadata")),
            confidence=float((message.get("intent") or {}).get("confidence") or 0.0),
        )
        if lang != remembered:
            turn.set_slot("lang", lang)
        return turn

    # --- reading ---------------------------------------------------------------------------------------

    def entity(self, name: str) -> str | None:
        values = self.entities.get(name)
        return values[0] if values else None

    def slot(self, name: str) -> Any:
        return self.slot_changes[name] if name in self.slot_changes else self.slots.get(name)

    @property
    def awaiting(self) -> dict[str, Any] | None:
        value = self.slot("awaiting")
        return value if isinstance(value, dict) and value.get("want") else None

    @property
    def request_text(self) -> str:
        """What the customer asked for, including the message that started a topic we are resuming."""
        earlier = str((self.resumed or {}).get("text") or "")
        return f"{earlier} {self.text}".strip() if earlier else self.text

    @property
    def is_bare(self) -> bool:
        """The message has no words (only an id or digits): it answers our question rather than asks one."""
        return self.message_lang is None

    @property
    def pressed(self) -> bool:
        """The message is a button's payload (`/intent{...}`): typed text never starts with "/" once the intake
        has taken it in (kefu/channels/intake.py), so only a button we offered sends one."""
        return self.text.startswith("/")

    @property
    def question(self) -> str | None:
        """The id of the question a pressed button answers (`/affirm{"question": "…"}`), if it carries one."""
        return self.entity("question")

    @property
    def now(self) -> datetime:
        return self.services.clock()

    def operation_key(self, operation: str, order_id: str) -> str | None:
        """The idempotency key of one order operation this turn asks for: the same message (replayed, or its
        action run again) asks with the same key, so the backend does it once (kefu/orders/base.py)."""
        if not self.idempotency_key:
            return None
        return hashlib.sha256(f"{self.idempotency_key}\x1f{operation}\x1f{order_id}".encode()).hexdigest()[:32]

    # --- writing ---------------------------------------------------------------------------------------

    def set_slot(self, name: str, value: Any) -> None:
        self.slot_changes[name] = value

    def set_awaiting(self, awaiting: dict[str, Any] | None) -> None:
        if awaiting != self.slots.get("awaiting") or "awaiting" in self.slot_changes:
            self.set_slot("awaiting", awaiting)

    def tr(self, key: str, **fields: Any) -> str:
        return t(key, self.lang, **fields)

    def say(self, key: str, **fields: Any) -> None:
        self.replies.append(Reply(self.tr(key, **fields)))

    def say_text(self, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        self.replies.append(Reply(text, buttons or []))

    def ask_confirm(self, text: str, awaiting: dict[str, Any], yes: str = "button.yes",
                    no: str = "button.no") -> None:
        """A yes/no question with buttons; affirm/deny on the next turn act on `awaiting`.

        The question gets an id that its buttons carry, so a button tapped later answers only this question,
        never one asked after it (an old "Yes" must not cancel another order)."""
        question = secrets.token_hex(4)
        buttons = [{"title": self.tr(yes), "payload": answer_payload("affirm", question)},
                   {"title": self.tr(no), "payload": answer_payload("deny", question)}]
        self.replies.append(Reply(text, buttons))
        self.set_awaiting({"want": "confirm", **awaiting, "question": question})

    # --- formatting ------------------------------------------------------------------------------------

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return self.tr("format.datetime", dt=moment.astimezone(self.services.settings.shop.tz))

    def hours(self, span: timedelta) -> int:
        return max(1, int(span.total_seconds() // 3600))

    def label(self, prefix: str, code: str | None) -> str:
        """A catalog label for a data value (status, carrier), or the value itself when there is none."""
        if not code:
            return "-"
        key = f"{prefix}.{code}"
        return self.tr(key) if has(key) else code

    def money(self, amount: float) -> str:
        return self.tr("format.money", amount=amount)

    # --- flushing --------------------------------------------------------------------------------------

    def discard_replies(self) -> None:
        """Forget what was going to be said, and every slot change but the language (used on errors)."""
        self.replies.clear()
        self.slot_changes = {k: v for k, v in self.slot_changes.items() if k == "lang"}

    def _remember_prompt(self) -> None:
        """A question asked this turn keeps what we said (the last reply), so it can be asked again when the
        customer's answer is unclear or an old button is tapped."""
        awaiting = self.slot_changes.get("awaiting")
        if isinstance(awaiting, dict) and "prompt" not in awaiting and self.replies:
            last = self.replies[-1]
            self.slot_changes["awaiting"] = {**awaiting, "prompt": {"text": last.text, "buttons": last.buttons}}

    def ask_again(self, key: str) -> bool:
        """Say `key` ({question}: the open question's text) with its buttons; False when no question is open."""
        prompt = (self.awaiting or {}).get("prompt")
        if not isinstance(prompt, dict) or not prompt.get("text"):
            return False
        self.say_text(self.tr(key, question=prompt["text"]), list(prompt.get("buttons") or []))
        return True

    def flush(self, dispatcher: CollectingDispatcher) -> list[EventType]:
        self._remember_prompt()
        for reply in self.replies:
            if reply.buttons:
                dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
            else:
                dispatcher.utter_message(text=reply.text)
        return [SlotSet(name, value) for name, value in self.slot_changes.items()]


def answer_payload(intent: str, question: str) -> str:
    """A button's payload answering one question; kefu/channels/base.py BUTTON_PAYLOAD lets exactly this through."""
    return f'/{intent}{{"question":"{question}"}}'
