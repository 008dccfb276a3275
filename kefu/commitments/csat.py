"""The satisfaction survey (CSAT): a one-tap 1-5 after an agent closes a ticket or the bot resolved a conversation.

Asked (``ask``) by the handoff manager's ``on_finished`` hook (a closed ticket, rated for its agent) and by a turn
observer (no handoff, the customer said thanks or goodbye after at least one earlier question: rated for the
bot). A conversation is asked at most once per cool-down (``KEFU_CSAT_COOLDOWN_S``): never twice in a row.
The answer is read by a pipeline interceptor, only while a survey waits: a button (web chat, Telegram) or a
bare number (WeChat). Then one optional comment: the next message is kept as the comment unless it is a button
or names an order or a ticket (a new request: the survey steps aside and the bot answers it).
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from kefu.config.commitments import CommitmentSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.i18n import language_of, t
from kefu.core.messages import Button, InboundMessage, OutboundMessage
from kefu.core.ratings import BY_BOT, Rating, RatingStore

if TYPE_CHECKING:
    from kefu.dialogue.rasa_client import RasaTurn
    from kefu.handoff.decision import Decision
    from kefu.handoff.state import Handoff

# Button payloads are intents without digits (kefu/channels/base.py BUTTON_PAYLOAD).
SCORE_PAYLOADS = {f"/csat_{word}": score for score, word in enumerate(("one", "two", "three", "four", "five"), 1)}
SKIP_PAYLOAD = "/csat_skip"
PREFIX = "/csat_"
# A bare score, as WeChat customers type it: "4", "４", "4分", "4 stars", "4/5".
TYPED_SCORE = re.compile(r"^\s*([1-5１-５])\s*(?:分|星|颗星|stars?|/\s*5)?\s*[.!。！]?\s*$", re.IGNORECASE)
# A message naming an order or a ticket is a new request, not a comment.
REQUEST = re.compile(r"DD\d{6,}|T-\d{4,}", re.IGNORECASE)
RESOLVED_INTENTS = ("thank", "goodbye")
MAX_COMMENT_CHARS = 1000


@dataclass(frozen=True)
class Survey:
    """A survey waiting in Redis; ``score`` is 0 until answered, then the comment may follow."""

    conversation_id: str
    ticket_id: str
    by: str
    asked_at: float
    score: int = 0
    rated_at: float = 0.0
    channel: str = ""

    def rating(self, comment: str = "") -> Rating:
        return Rating(self.conversation_id, self.ticket_id, self.score, comment, self.by, self.channel,
                      self.rated_at)


def typed_score(message: InboundMessage) -> int | None:
    payload = message.metadata.get("payload")
    if payload:
        return SCORE_PAYLOADS.get(payload)
    found = TYPED_SCORE.match(message.text)
    return int(found[1].translate(str.maketrans("１２３４５", "12345"))) if found else None


def score_buttons(lang: str | None) -> tuple[Button, ...]:
    del lang  # the same digits in both languages
    return tuple(Button(str(score), payload) for payload, score in SCORE_PAYLOADS.items())


class Surveys:
    def __init__(self, redis: aioredis.Redis, conversations: ConversationStore, delivery: Delivery,
                 ratings: RatingStore, settings: CommitmentSettings, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.conversations = conversations
        self.delivery = delivery
        self.ratings = ratings
        self.settings = settings
        self.clock = clock

    async def ask(self, conversation_id: str, channel: str, lang: str | None, ticket_id: str = "",
                  by: str = BY_BOT) -> bool:
        """Ask unless this conversation was asked within the cool-down; True when asked."""
        if not self.settings.csat_enabled:
            return False
        if not await self.redis.set(keys.csat_asked(conversation_id), "1", nx=True,
                                    ex=self.settings.csat_cooldown_s):
            return False
        await self._save(Survey(conversation_id, ticket_id, by, self.clock()), self.settings.csat_answer_ttl_s)
        await self._say(channel, conversation_id, t("commitments.csat.ask", lang), score_buttons(lang))
        return True

    # -- where surveys are asked from ------------------------------------------------------------------

    async def after_finished(self, handoff: Handoff) -> None:
        """HandoffManager.on_finished: a ticket an agent closed (not one handed back to the bot)."""
        if handoff.status == "closed":
            await self.ask(handoff.conversation_id, handoff.channel, handoff.lang, handoff.ticket_id,
                           handoff.agent or "agent")

    async def after_turn(self, message: InboundMessage, turn: RasaTurn, decision: Decision | None) -> None:
        """Pipeline observer: the bot resolved it (no handoff, the customer says thanks or goodbye)."""
        if decision is not None and decision.handoff or turn.understanding.intent not in RESOLVED_INTENTS:
            return
        earlier = [entry for entry in await self.conversations.transcript(message.conversation_id, limit=20)
                   if entry["role"] == "customer" and entry["id"] != message.message_id]
        if not earlier:  # "thanks" as a first message resolved nothing
            return
        record = await self.conversations.record(message.conversation_id)
        lang = language_of(message.text, turn.slots.get("lang"), record.get("lang"))
        await self.ask(message.conversation_id, message.channel, lang)

    # -- the answer --------------------------------------------------------------------------------------

    async def intercept(self, message: InboundMessage) -> bool:
        """Pipeline interceptor: True when the message answered a waiting survey (Rasa is not asked)."""
        payload = str(message.metadata.get("payload") or "")
        raw = await self.redis.get(keys.csat_pending(message.conversation_id))
        if raw is None and not payload.startswith(PREFIX):
            return False  # the common case: one GET per message
        lang = language_of(message.text, (await self.conversations.record(message.conversation_id)).get("lang"))
        if raw is None:  # a button of a survey that has closed: Rasa knows no such intent
            await self._say(message.channel, message.conversation_id, t("commitments.csat.expired", lang))
            return True
        survey = Survey(**json.loads(raw))
        score = typed_score(message)
        if score is not None:
            return await self._rated(message, replace(survey, score=score, channel=message.channel,
                                                      rated_at=survey.rated_at or self.clock()), lang)
        if not survey.score:
            return False  # not an answer: the survey keeps waiting, the bot answers this
        return await self._commented(message, survey, payload, lang)

    async def _rated(self, message: InboundMessage, survey: Survey, lang: str | None) -> bool:
        await self.ratings.record(survey.rating())
        await self._save(survey, self.settings.csat_comment_ttl_s)
        await self._say(message.channel, message.conversation_id, t("commitments.csat.thanks", lang, score=survey.score),
                        (Button(t("commitments.csat.skip_button", lang), SKIP_PAYLOAD),))
        return True

    async def _commented(self, message: InboundMessage, survey: Survey, payload: str, lang: str | None) -> bool:
        await self.redis.delete(keys.csat_pending(message.conversation_id))
        if payload == SKIP_PAYLOAD:
            await self._say(message.channel, message.conversation_id, t("commitments.csat.skipped", lang))
            return True
        if payload or REQUEST.search(message.text):
            return False  # a new request: the bot answers it
        await self.ratings.record(survey.rating(message.text.strip()[:MAX_COMMENT_CHARS]))
        await self._say(message.channel, message.conversation_id, t("commitments.csat.comment_thanks", lang))
        return True

    async def _save(self, survey: Survey, ttl_s: int) -> None:
        await self.redis.set(keys.csat_pending(survey.conversation_id), json.dumps(asdict(survey)), ex=ttl_s)

    async def _say(self, channel: str, conversation_id: str, text: str, buttons: tuple[Button, ...] = ()) -> None:
        await self.delivery.deliver(channel, OutboundMessage(conversation_id, text, role="system", buttons=buttons))
