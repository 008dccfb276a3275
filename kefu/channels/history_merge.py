"""One history per customer (field note 1): a channel user's chat from before the link joins the customer's.

Before ``绑定 DD... 1234`` / ``/link DD... 1234`` a WeChat or Telegram user writes to ``<channel>:<user_id>``;
afterwards to ``cust:<customer_id>``. When the link succeeds, kefu/channels/linking.py calls ``HistoryMerge.merge``:

- **Transcript**: the pre-link entries move into the customer's conversation, ordered by their ``ts`` among
  the entries already there (say the customer's WeChat turns), together with what the bot understood of each
  turn and the undelivered flags. One Lua script (``ConversationStore.merge``), so a message stored at the
  same moment is neither lost nor doubled; linking again moves only what arrived since, never a duplicate.
- **Old id**: its record keeps ``merged_into`` (and ``merged_at``); ``ConversationStore`` follows it, so the
  old id reads the merged history, and a reply still in flight for the old id lands in the merged one.
- **Handoff**: an active handoff of the pre-link conversation now serves the customer's conversation (the
  agent sees the merged history, their replies reach the customer, the customer's next messages reach the
  agent), and holds it unless another active handoff already does. Its ticket becomes the customer's (listed
  with their tickets). The old conversation id still points at the handoff. Consoles get a ``merged`` event.
- **Agents' notes** kept under the pre-link conversation (an anonymous handoff's notes) follow the customer.
- **In flight**: a message queued under the old id before the link and answered after it: its replies
  (``ConversationStore.add_reply``, which also sweeps in late entries) and a handoff it triggers
  (``HandoffManager.open``) go to the customer's conversation.
- **Not merged**: Rasa's tracker of the pre-link conversation (slots, the bot's memory of that chat) is left
  where it is; the customer's conversation has its own. Handoffs closed before the link keep their old ticket
  and conversation id (which reads the merged history).

The history of one customer never moves to another: a user who was linked (and merged) once and later links
to a different customer starts writing to that customer's conversation, but the old chat stays merged where
it went first.
"""
from __future__ import annotations

import logging

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.identity import customer_conversation
from kefu.core.tickets import TicketStore
from kefu.handoff.events import Merged
from kefu.handoff.state import HandoffStore

log = logging.getLogger(__name__)


class HistoryMerge:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.conversations = ConversationStore(redis)
        self.handoffs = HandoffStore(redis)
        self.tickets = TicketStore(redis)

    async def merge(self, source: str, customer_id: str) -> int | None:
        """Merge conversation ``source`` into the customer's; how many entries moved, None if it belongs to
        another customer's conversation already."""
        target = customer_conversation(customer_id)
        # A customer's notes live under "cust:<id>" (kefu/handoff/context.py notes_subject), an anonymous
        # conversation's under its own id.
        moved = await self.conversations.merge(source, target, customer_id,
                                               also=[(keys.notes(source), keys.notes(target))])
        if moved is None:
            log.warning("history of %s was merged into another conversation before; not moved to %s",
                        source, target)
            return None
        handoff = await self.handoffs.move(source, target, customer_id)
        if handoff is not None:
            await self.tickets.adopt(handoff.ticket_id, customer_id, target)
            await self.handoffs.publish(Merged(source, handoff.summary()).to_dict())
            log.info("handoff %s follows %s into %s", handoff.ticket_id, source, target)
        log.info("merged %s into %s: %s entries moved", source, target, moved)
        return moved
