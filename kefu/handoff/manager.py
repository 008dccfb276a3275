"""The gateway's side of human takeover: decide after each bot turn, hold the conversation, serve the agents.

The pipeline consults the manager before asking Rasa (a held conversation never reaches Rasa) and after
(a handoff decision replaces the bot's replies with the takeover message). Agents act through it too,
from the console: claim, reply, note, transfer, close, hand back.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore, Understanding
from kefu.core.delivery import Delivery
from kefu.core.i18n import detect_language, has, normalise_lang, t
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.core.offers import offer
from kefu.core.tickets import TicketStore
from kefu.dialogue.rasa_client import RasaClient, RasaTurn, RasaUnavailable
from kefu.handoff.context import ContextBuilder, notes_subject
from kefu.handoff.decision import PRIORITY_RANK, Decision, HandoffPolicy
from kefu.handoff.events import Claimed, ConsoleEvent, Finished, FollowUpAlert, Message, Note, Queued
from kefu.handoff.followups import FollowUp, FollowUps
from kefu.handoff.state import ClaimRefused, Handoff, HandoffStore
from kefu.handoff.teams import team_for
from kefu.orders import OrderBackend

log = logging.getLogger(__name__)

# A held conversation's customer is reminded that messages reach the ticket at most this often.
REMINDER_EVERY_S = 120
RESOLUTIONS = ("resolved", "refunded", "replaced", "compensated", "escalated", "no_action")


class HandoffError(ValueError):
    """An agent's request cannot be done (unknown ticket, no longer active, bad resolution)."""


class HandoffManager:
    def __init__(
        self,
        redis: aioredis.Redis,
        rasa: RasaClient,
        backend: OrderBackend,
        settings: HandoffSettings,
        delivery: Delivery,
        http: aiohttp.ClientSession | None = None,
        policy: HandoffPolicy | None = None,
    ) -> None:
        self.redis = redis
        self.rasa = rasa
        self.settings = settings
        self.http = http
        self.policy = policy or HandoffPolicy.default()
        self.store = HandoffStore(redis)
        self.tickets = TicketStore(redis)
        self.conversations = ConversationStore(redis)
        self.followups = FollowUps(redis)
        self.context = ContextBuilder(self.conversations, self.tickets, backend, self.store)
        self.delivery = delivery
        # Told about every finished handoff (closed or handed back) after the customer was told: features above
        # the handoff layer register here (e.g. a satisfaction survey, quality-review sampling).
        self.on_finished: list[Callable[[Handoff], Awaitable[None]]] = []
        self._background: set[asyncio.Task[None]] = set()

    async def deliver(self, channel: str, message: OutboundMessage) -> None:
        await self.delivery.deliver(channel, message)

    # -- the pipeline's hooks ------------------------------------------------------------------------

    async def before(self, message: InboundMessage) -> bool:
        """True when people hold this conversation: the message goes to the agent's screen, not to Rasa."""
        handoff = await self.store.holding(message.conversation_id)
        if handoff is None:
            return False
        entry = {"id": message.message_id, "role": "customer", "text": message.text, "ts": message.received_at,
                 "channel": message.channel}
        await self.publish(Message(handoff.ticket_id, entry))
        if await self._escalated(handoff, message):
            return True
        if handoff.status == "waiting" and await self.redis.set(
            keys.handoff_reminded(handoff.ticket_id), "1", nx=True, ex=REMINDER_EVERY_S
        ):
            await self.deliver(message.channel, OutboundMessage(
                conversation_id=message.conversation_id, role="system",
                text=t("takeover.still_waiting", handoff.lang, ticket=handoff.ticket_id),
            ))
        return True

    async def _escalated(self, handoff: Handoff, message: InboundMessage) -> bool:
        """A message to a held conversation is still understood: when it is worse than what opened the handoff
        (a safety report in a complaint, a complaint in a request for a person), the ticket takes the worse
        reason, priority and team, the agents are alerted, and for safety the customer gets the urgent guidance."""
        try:
            understanding = await self.rasa.parse(message.text)
        except RasaUnavailable:  # the lexicon still judges the words
            understanding = Understanding(intent=None, confidence=None, entities=[])
        decision = self.policy.decide(message.text, understanding, [])
        if not decision.handoff or PRIORITY_RANK[decision.priority] >= PRIORITY_RANK[handoff.priority]:
            return False
        raised = await self.store.escalate(handoff, decision.reason, decision.priority, team_for(decision.reason))
        await self.tickets.escalate(handoff.ticket_id, decision.reason, decision.priority)
        await self.publish(Queued(raised.summary()))
        log.warning("handoff %s raised to %s (%s) by a later message", handoff.ticket_id, decision.reason,
                    decision.priority)
        if decision.reason == "safety":
            await self.deliver(message.channel, OutboundMessage(
                conversation_id=message.conversation_id, role="system",
                text=self.settings.guidance(handoff.lang) or t("takeover.safety_guidance", handoff.lang),
            ))
        return True

    async def after(self, message: InboundMessage, turn: RasaTurn) -> Decision:
        """Decide on this turn; on a handoff the customer has been told (the bot's replies are dropped)."""
        since = message.received_at - self.policy.detector.signals.session_gap_s
        history = [
            entry for entry in await self.conversations.transcript(message.conversation_id, limit=40)
            if entry["role"] == "customer" and entry["id"] != message.message_id and entry.get("ts", 0) >= since
        ]
        decision = self.policy.decide(message.text, turn.understanding, history)
        if decision.handoff:
            await self.open(message, decision, turn.slots)
        return decision

    async def offer(self, message: InboundMessage, turn: RasaTurn) -> None:
        """Ask whether the customer wants a person (they seem stuck), unless the bot's reply already asked."""
        if any(button.payload == "/request_human" for reply in turn.replies for button in reply.buttons):
            return
        lang = normalise_lang(detect_language(message.text) or turn.slots.get("lang"))
        text, buttons = offer("human", lang)
        await self.deliver(message.channel, OutboundMessage(message.conversation_id, text, buttons=buttons))

    # -- opening a handoff ---------------------------------------------------------------------------

    async def open(self, message: InboundMessage, decision: Decision, slots: dict[str, Any]) -> None:
        assert decision.reason is not None and decision.priority is not None
        # A message queued before its sender linked a customer is answered after the link: the handoff holds the
        # customer's conversation, where that chat was merged (kefu/channels/history_merge.py) and the next messages go.
        conversation_id = await self.conversations.live_id(message.conversation_id)
        record = await self.conversations.record(conversation_id)
        customer_id = message.customer_id or record.get("customer_id") or None
        lang = normalise_lang(detect_language(message.text) or slots.get("lang") or record.get("lang"))
        ticket = await self.tickets.create(
            customer_id=customer_id, conversation_id=conversation_id, reason=decision.reason,
            priority=decision.priority, trigger_text=message.text, channel=message.channel,
        )
        handoff = Handoff(
            ticket_id=ticket.id, conversation_id=conversation_id, customer_id=customer_id or "",
            channel=message.channel, lang=lang, reason=decision.reason, priority=decision.priority,
            trigger_id=message.message_id, trigger_text=message.text, created_at=time.time(),
            team=team_for(decision.reason),
        )
        packet = await self.context.build(handoff, decision, slots)
        await self.store.open(handoff, packet)
        # The customer hears about the takeover before any agent can claim it, so an agent's greeting
        # never arrives ahead of the ticket number.
        for notice in await self._announcement(handoff):
            await self.deliver(message.channel, notice)
        now = datetime.now(UTC)
        if not self.settings.is_open(now):  # the customer was just told when agents will contact them
            await self.followups.promise(ticket.id, self.settings.next_opening(now).timestamp(),
                                         "Contact the customer: they were told we would when agents start.",
                                         "system")
        await self.publish(Queued(handoff.summary()))
        log.info("handoff %s: %s (%s) via %s, %s", ticket.id, decision.reason, decision.source,
                 message.channel, conversation_id)
        await self._pause(conversation_id)
        if self.settings.webhook_url and self.http is not None:
            self._spawn(self._post_webhook(packet))

    async def _announcement(self, handoff: Handoff) -> list[OutboundMessage]:
        lang, now = handoff.lang, datetime.now(UTC)
        texts = []
        if handoff.reason == "safety":
            texts.append(self.settings.guidance(lang) or t("takeover.safety_guidance", lang))
        texts.append(t("takeover.taken", lang, ticket=handoff.ticket_id))
        position = await self.store.position(handoff.ticket_id) or 1
        agents = await self.store.agents_online()
        if not self.settings.is_open(now):
            opens = self.settings.next_opening(now)
            hours = f"{self.settings.opens:%H:%M}-{self.settings.closes:%H:%M}"
            texts.append(t("takeover.closed_hours", lang, hours=hours, ticket=handoff.ticket_id,
                           opens=t("format.datetime", lang, dt=opens)))
        elif agents == 0:
            texts.append(t("takeover.no_agents", lang, position=position))
        else:
            minutes = max(1, math.ceil(position / agents) * self.settings.minutes_per_case)
            texts.append(t("takeover.wait", lang, position=position, agents=agents, minutes=minutes))
        # One message: it goes out before agents see the ticket, and rate-limited channels (Telegram's
        # one message a second per chat) would hold a ticket back by a second for each extra message.
        return [OutboundMessage(conversation_id=handoff.conversation_id, text="\n\n".join(texts), role="system")]

    async def _pause(self, conversation_id: str) -> None:
        # The gateway's own state already keeps Rasa out; the pause keeps Rasa's tracker honest too.
        try:
            await self.rasa.pause(conversation_id)
        except RasaUnavailable as error:
            log.warning("conversation %s: could not pause Rasa (%s); the gateway still holds it",
                        conversation_id, error)

    async def _resume(self, conversation_id: str) -> None:
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as error:
            log.warning("conversation %s: could not resume Rasa (%s)", conversation_id, error)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _post_webhook(self, packet: dict[str, Any]) -> None:
        assert self.http is not None
        headers = {"Authorization": f"Bearer {self.settings.webhook_token}"} if self.settings.webhook_token else {}
        try:
            async with self.http.post(self.settings.webhook_url, json=packet, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status >= 400:
                    log.error("handoff webhook answered HTTP %s for %s", response.status, packet["ticket"]["id"])
        except (aiohttp.ClientError, TimeoutError) as error:
            log.error("handoff webhook failed for %s: %s", packet["ticket"]["id"], error)

    # -- what agents do --------------------------------------------------------------------------------

    async def _active(self, ticket_id: str) -> Handoff:
        handoff = await self.store.get(ticket_id)
        if handoff is None:
            raise HandoffError(f"no handoff {ticket_id}")
        if not handoff.active:
            raise HandoffError(f"{ticket_id} is {handoff.status}")
        return handoff

    async def packet(self, ticket_id: str) -> dict[str, Any]:
        """The context packet, rebuilt live (transcript so far, orders' status now, notes, the follow-up due)."""
        handoff = await self.store.get(ticket_id)
        if handoff is None:
            raise HandoffError(f"no handoff {ticket_id}")
        stored = await self.store.packet(ticket_id) or {}
        ticket = stored.get("ticket") or {}
        packet = await self.context.build(handoff, _decision(ticket.get("decision")), stored.get("slots"))
        followup = await self.followups.get(ticket_id)
        return packet | {"followup": followup.to_dict() if followup else None}

    async def promise_followup(self, ticket_id: str, agent: str, due_at: float, what: str) -> FollowUp:
        """An agent's promise to the customer ("I'll call you back by 12:00"), tracked until kept or closed."""
        handoff = await self._active(ticket_id)
        if due_at <= time.time():
            raise HandoffError("a follow-up is due in the future")
        followup = await self.followups.promise(handoff.ticket_id, due_at, what, agent)
        await self.publish(FollowUpAlert("promised", followup.to_dict()))
        return followup

    async def followup_kept(self, ticket_id: str, agent: str) -> bool:
        kept = await self.followups.kept(ticket_id)
        if kept:
            await self.publish(FollowUpAlert("kept", {"ticket_id": ticket_id}, by=agent))
        return kept

    async def claim(self, ticket_id: str, agent: str, display_name: str) -> Handoff:
        handoff = await self.store.claim(ticket_id, agent)
        await self.tickets.update_status(ticket_id, "processing", t("takeover.claimed", handoff.lang,
                                                                    agent=display_name))
        await self.publish(Claimed(handoff.summary()))
        await self.deliver(handoff.channel, OutboundMessage(
            conversation_id=handoff.conversation_id, role="system",
            text=t("takeover.claimed", handoff.lang, agent=display_name),
        ))
        return handoff

    async def _held_by(self, ticket_id: str, agent: str, supervisor: bool) -> Handoff:
        handoff = await self._active(ticket_id)
        if handoff.status != "assigned" or (handoff.agent != agent and not supervisor):
            raise ClaimRefused(ticket_id)
        return handoff

    async def reply(self, ticket_id: str, agent: str, text: str, supervisor: bool = False) -> OutboundMessage:
        """The agent's words reach the customer on their own channel (role "agent")."""
        handoff = await self._held_by(ticket_id, agent, supervisor)
        message = OutboundMessage(conversation_id=handoff.conversation_id, text=text, role="agent")
        await self.deliver(handoff.channel, message)
        await self.publish(Message(ticket_id, message.to_dict() | {"channel": handoff.channel, "agent": agent}))
        return message

    async def note(self, ticket_id: str, agent: str, text: str) -> dict[str, Any]:
        """A private note: never shown to the customer, kept with the customer across handoffs."""
        handoff = await self.store.get(ticket_id)
        if handoff is None:
            raise HandoffError(f"no handoff {ticket_id}")
        note = {"agent": agent, "text": text, "ts": time.time(), "ticket": ticket_id}
        await self.store.add_note(notes_subject(handoff), note)
        await self.publish(Note(ticket_id, note))
        return note

    async def transfer(self, ticket_id: str, agent: str, to_agent: str, supervisor: bool = False) -> Handoff:
        """To a named agent: they hold it now and see it live; the customer is told nothing new."""
        await self._held_by(ticket_id, agent, supervisor)
        handoff = await self.store.transfer(ticket_id, to_agent)
        await self.publish(Claimed(handoff.summary(), by=agent))
        log.info("handoff %s: %s transferred it to %s", ticket_id, agent, to_agent)
        return handoff

    async def transfer_to_team(self, ticket_id: str, agent: str, team: str, supervisor: bool = False) -> Handoff:
        """Back into the queue, for ``team`` first (kefu/handoff/teams.py); the customer is told nothing new."""
        handoff = await self._held_by(ticket_id, agent, supervisor)
        queued = await self.store.requeue(handoff, team, "" if supervisor else agent)
        await self.publish(Queued(queued.summary(), by=agent))
        log.info("handoff %s: %s transferred it to team %s", ticket_id, agent, team)
        return queued

    async def close(self, ticket_id: str, agent: str, resolution: str, supervisor: bool = False) -> Handoff:
        """Close with a resolution category; the customer is told, and the bot answers again afterwards."""
        if resolution not in RESOLUTIONS or not has(f"takeover.resolution.{resolution}"):
            raise HandoffError(f"resolution must be one of {RESOLUTIONS}")
        handoff = await self._active(ticket_id)
        text = t("takeover.closed", handoff.lang, ticket=ticket_id,
                 resolution=t(f"takeover.resolution.{resolution}", handoff.lang))
        return await self._finish(handoff, agent, supervisor, "closed", resolution, "resolved", text)

    async def hand_back(self, ticket_id: str, agent: str, supervisor: bool = False) -> Handoff:
        """Give the conversation back to the bot (Rasa resumes); the customer is told."""
        handoff = await self._active(ticket_id)
        text = t("takeover.handed_back", handoff.lang, ticket=ticket_id)
        return await self._finish(handoff, agent, supervisor, "returned", "handed_back", "closed", text)

    async def _finish(self, handoff: Handoff, agent: str, supervisor: bool, status: str, resolution: str,
                      ticket_status: str, text: str) -> Handoff:
        if not await self.store.finish(handoff, status, resolution, "" if supervisor else agent):
            raise HandoffError(f"{handoff.ticket_id} is no longer active")
        await self._resume(handoff.conversation_id)
        await self.followups.kept(handoff.ticket_id)
        await self.tickets.update_status(handoff.ticket_id, ticket_status, text)
        finished = replace(handoff, status=status, resolution=resolution)
        await self.publish(Finished(finished.summary()))
        await self.deliver(handoff.channel, OutboundMessage(
            conversation_id=handoff.conversation_id, text=text, role="system"))
        for hook in self.on_finished:
            await hook(finished)
        return finished

    # -- what the console reads and announces (it never reaches into the store) ----------------------------

    async def handoff(self, ticket_id: str) -> Handoff | None:
        """The handoff of this ticket in any status, for the console to check what an agent may see or claim."""
        return await self.store.get(ticket_id)

    async def active_handoffs(self) -> list[Handoff]:
        """Every handoff people hold or that waits for them, most urgent first: the boards are built from it."""
        return await self.store.active()

    async def presence(self) -> dict[str, dict[str, Any]]:
        """Agents seen recently (status, role, team), by name; who is online decides a team's routing."""
        return await self.store.presence()

    async def set_presence(self, agent: str, status: str, role: str, team: str = "") -> None:
        """Record (or refresh, on the console's heartbeat) an agent's status; it lapses unless refreshed."""
        await self.store.set_presence(agent, status, role, team)

    async def drop_presence(self, agent: str) -> None:
        await self.store.drop_presence(agent)

    async def publish(self, event: ConsoleEvent) -> None:
        """Tell every console, in every gateway process, what changed."""
        await self.store.publish(event.to_dict())

    async def subscribe(self) -> aioredis.client.PubSub:
        """A subscription to every console event; open it before reading a board so no change falls between."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(keys.CONSOLE_EVENTS)
        return pubsub


def _decision(raw: dict[str, Any] | None) -> Decision | None:
    return Decision(**raw) if raw else None
