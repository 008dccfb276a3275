"""One intake step for every channel: what reaches the bot, what is only kept for agents, and what is answered.

The rules are the same on web chat, WeChat and Telegram: an empty message is answered and not stored; a message
over the length limit is kept (clipped) for agents and answered with the limit; anything the bot does not read
(a photo, a sticker, ``/start``) is kept for agents; everything else goes to the durable inbox, deduplicated
by the channel's message id, before the channel acknowledges it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from kefu.core.conversations import ConversationStore
from kefu.core.i18n import language_of, t
from kefu.core.inbox import Arrival, Inbox, Waiting
from kefu.core.messages import InboundMessage, clipped


@dataclass(frozen=True)
class Taken:
    """What became of a message: ``refused`` (empty, too_long) or queued; ``fresh`` once per message id."""

    fresh: bool
    refused: str | None = None
    answer: str | None = None


class Intake:
    def __init__(self, inbox: Inbox, conversations: ConversationStore, max_message_chars: int) -> None:
        self.inbox = inbox
        self.conversations = conversations
        self.max_message_chars = max_message_chars

    async def take(self, message: InboundMessage, waiting: Waiting | None = None,
                   arrival: Arrival | None = None) -> Taken:
        """Queue a text for the bot, or refuse it with the answer to give (in the customer's language). The
        ``arrival``'s checks are made whatever becomes of the text (kefu/core/inbox.py raises when they fail)."""
        text = message.text.strip()
        # Rasa reads any text that starts with "/" once stripped as `/intent{"entity": ...}` and skips NLU, so a
        # typed `/order_status{"order_id": ..., "phone": ...}` would hand the actions whatever entities it
        # names. Only buttons we offered may do that (their payload travels in metadata, checked by the
        # receiver); free text loses its leading slashes (a space would not do: Rasa strips it first).
        while "payload" not in message.metadata and text.startswith("/"):
            text = text[1:].strip()
        if not text:
            if arrival is not None:
                await self.inbox.arrive(arrival)
            return Taken(False, "empty", t("gateway.empty", await self.language(message)))
        if len(text) > self.max_message_chars:
            fresh = await self.inbox.record(replace(message, text=clipped(text, self.max_message_chars)), arrival)
            answer = t("gateway.too_long", await self.language(message), limit=self.max_message_chars)
            return Taken(fresh, "too_long", answer)
        return Taken(await self.inbox.submit(replace(message, text=text), waiting, arrival))

    async def keep(self, message: InboundMessage) -> bool:
        """Kept for agents without asking the bot; False when this message id was taken in before."""
        return await self.inbox.record(message)

    async def language(self, message: InboundMessage) -> str:
        """The language to answer in: what the customer wrote in, else the conversation's."""
        return language_of(message.text, (await self.conversations.record(message.conversation_id)).get("lang"))
