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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core import keys, service_times
from kefu.core.conversations import Understanding
from kefu.core.delivery import Delivery
from kefu.core.i18n import has, language_of, t
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.core.offers import offer
from kefu.core.tickets import TicketStore
from kefu.dialogue.rasa_client import RasaClient, RasaProtocolError, RasaTurn, RasaUnavailable
from kefu.handoff import encoder
from kefu.handoff.categories import categorise
from kefu.handoff.context import ContextBuilder, notes_subject
from kefu.handoff.decision import PRIORITIES, PRIORITY_RANK, Decision, HandoffPolicy
from kefu.handoff.events import (
    Claimed,
    ConsoleEvent,
    Finished,
    FollowUpAlert,
    InboxChanged,
    Message,
    Note,
    Queued,
)
from kefu.handoff.followups import FollowUp, FollowUps
from kefu.handoff.resumes import PendingResume, PendingResumes
from kefu.handoff.state import INBOX_STATES, ClaimRefused, Handoff, HandoffStore
from kefu.handoff.teams import SAFETY_TEAM, team_for, team_list
from kefu.orders import BackendUnavailable, Order, OrderBackend, OrderNotFound

log = logging.getLogger(__name__)

# A held conversation's customer is reminded that messages reach the ticket at most this often.
REMINDER_EVERY_S = 120
# How often every process looks for snoozed handoffs whose time has come (waking one is claimed in Redis).
SNOOZE_CHECK_S = 2.0
# How long paging the on-call contact may hold back the customer's announcement (it says whether it worked).
PAGE_TIMEOUT_S = 5.0
# One thread reads turns for the policy (the encoders are not shared between threads), off the event loop.
_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-handoff-reader")
# How long the offer of a person stays open for a typed yes: the next message answers it or moves on.
OFFER_OPEN_S = 30 * 60
# A paged safety report is followed up: the consoles are alerted if nobody has closed it by then.
ONCALL_FOLLOWUP_S = 30 * 60
# Who finishes a withdrawn request: no agent is called that, so a request an agent claimed meanwhile is refused.
WITHDRAWN_BY = "customer"
WITHDRAWN = "withdrawn"  # the resolution of a request for a person the customer took back before anyone answered
RESOLUTIONS = ("resolved", "refunded", "replaced", "compensated", "escalated", "no_action")


# The conversation record's field: when a handoff of it was last finished (closed or handed back).
SETTLED_AT = "handoff_settled_at"


class HandoffError(ValueError):
    """An agent's request cannot be done (unknown ticket, no longer active, bad resolution)."""


@dataclass(frozen=True)
class Announcement:
    """What a customer is told when their handoff opens, and the promise it makes (a follow-up to track)."""

    text: str
    promise_due: float | None = None
    promise_what: str = ""


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
        self.conversations = delivery.conversations  # one store, with the configured retention
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
        if handoff.inbox != "open":  # pending the customer or snoozed: their answer brings it back
            reopened = await self.store.set_inbox(handoff.ticket_id, "open")
            if reopened is not None:
                await self.publish(InboxChanged(reopened.summary(), by="customer"))
        if await self._escalated(handoff, message):
            return True
        if await self._withdrawn(handoff, message):
            return False  # the bot answers the rest of it ("never mind, where is my order then?")
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
        decision = await self._decide(message.text, understanding, [])
        if not decision.handoff or PRIORITY_RANK[decision.priority] >= PRIORITY_RANK[handoff.priority]:
            return False
        raised = await self.store.escalate(handoff, decision.reason, decision.priority, team_for(decision.reason))
        await self.tickets.escalate(handoff.ticket_id, decision.reason, decision.priority)
        await self.tickets.set_category(handoff.ticket_id, categorise(decision.reason, message.text))
        await self.publish(Queued(raised.summary()))
        log.warning("handoff %s raised to %s (%s) by a later message", handoff.ticket_id, decision.reason,
                    decision.priority)
        if decision.reason == "safety":
            await self.deliver(message.channel, OutboundMessage(
                conversation_id=message.conversation_id, role="system",
                text=self.settings.guidance(handoff.lang) or t("takeover.safety_guidance", handoff.lang),
            ))
        return True

    async def _withdrawn(self, handoff: Handoff, message: InboundMessage) -> bool:
        """A customer who asked for a person takes it back while no agent has the request yet ("never mind, found
        it"): the request closes as withdrawn and the bot answers again. A complaint or a safety report is never
        withdrawn this way (a person decides those)."""
        if handoff.status != "waiting" or handoff.reason != "human" or not self.policy.detector.withdraws(message.text):
            return False
        text = t("takeover.withdrawn", handoff.lang, ticket=handoff.ticket_id)
        try:
            await self._finish(handoff, WITHDRAWN_BY, False, "returned", WITHDRAWN, "closed", text)
        except (HandoffError, ClaimRefused):  # an agent took it meanwhile: that agent answers
            return False
        log.info("handoff %s withdrawn by the customer", handoff.ticket_id)
        return True

    async def after(self, message: InboundMessage, turn: RasaTurn) -> Decision:
        """Decide on this turn; on a handoff the customer has been told (the bot's replies are dropped)."""
        # The earlier turns that give this one its meaning: this session's, and none from before a handoff was
        # finished (a safety report an agent has dealt with must not make "where is my order?" a safety report).
        settled = await self.redis.hget(keys.conversation(message.conversation_id), SETTLED_AT)
        since = max(message.received_at - self.policy.detector.signals.session_gap_s, float(settled or 0))
        history = [
            entry for entry in await self.conversations.transcript(message.conversation_id, limit=40)
            if entry["role"] == "customer" and entry["id"] != message.message_id and entry.get("ts", 0) >= since
        ]
        if await self._offer_accepted(message, turn):
            decision = Decision("handoff", "human", PRIORITIES["human"], "offer_accepted", message.text)
        else:
            decision = await self._decide(message.text, turn.understanding, history)
        if decision.handoff:
            await self.open(message, decision, turn.slots)
        elif _offers_a_person(turn):  # the bot's own reply asked ("shall I ask a colleague?")
            await self._offered(message.conversation_id)
        return decision

    def read_ahead(self, message: InboundMessage) -> None:
        """Read the turn with the sentence encoders now, while Rasa answers it: the decision after Rasa then finds
        it read (on the same reader thread, queued behind) instead of adding e5's tens of milliseconds to a
        handoff's way to the agents. Every turn Rasa answers is read anyway; a failure here is met again there."""
        if self.policy.classifier is not None:
            _READER.submit(encoder.embed, [message.text])

    async def _decide(self, text: str, understanding: Understanding | None,
                      history: list[dict[str, Any]]) -> Decision:
        """The policy's decision, off the event loop: reading a new turn with the sentence encoders takes tens of
        milliseconds of CPU, which would stall every other conversation this process serves."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_READER, self.policy.decide, text, understanding, history)

    async def _offer_accepted(self, message: InboundMessage, turn: RasaTurn) -> bool:
        """A typed yes right after the offer of a person (WeChat shows its buttons as text) is a request for one;
        any other answer, or a yes to a question the bot has open, closes the offer."""
        offered = await self.redis.getdel(keys.handoff_offer(message.conversation_id))
        return bool(offered) and turn.understanding.intent == "affirm" and not turn.slots.get("awaiting")

    async def _offered(self, conversation_id: str) -> None:
        await self.redis.set(keys.handoff_offer(conversation_id), "1", ex=OFFER_OPEN_S)

    async def offer(self, message: InboundMessage, turn: RasaTurn) -> None:
        """Ask whether the customer wants a person (they seem stuck), unless the bot's reply already asked."""
        if _offers_a_person(turn):
            return
        lang = language_of(message.text, turn.slots.get("lang"))
        text, buttons = offer("human", lang)
        await self.deliver(message.channel, OutboundMessage(message.conversation_id, text, buttons=buttons))
        await self._offered(message.conversation_id)

    # -- opening a handoff ---------------------------------------------------------------------------

    async def open(self, message: InboundMessage, decision: Decision, slots: dict[str, Any]) -> None:
        assert decision.reason is not None and decision.priority is not None
        # A message queued before its sender linked a customer is answered after the link: the handoff holds the
        # customer's conversation, where that chat was merged (kefu/channels/history_merge.py) and the next messages go.
        conversation_id = await self.conversations.live_id(message.conversation_id)
        record = await self.conversations.record(conversation_id)
        customer_id = message.customer_id or record.get("customer_id") or None
        lang = language_of(message.text, slots.get("lang"), record.get("lang"))
        ticket = await self.tickets.create(
            customer_id=customer_id, conversation_id=conversation_id, reason=decision.reason,
            priority=decision.priority, trigger_text=message.text, channel=message.channel,
            category=categorise(decision.reason, message.text),
        )
        handoff = Handoff(
            ticket_id=ticket.id, conversation_id=conversation_id, customer_id=customer_id or "",
            channel=message.channel, lang=lang, reason=decision.reason, priority=decision.priority,
            trigger_id=message.message_id, trigger_text=message.text, created_at=time.time(),
            team=team_for(decision.reason),
        )
        packet = await self.context.build(handoff, decision, slots)
        await self.store.open(handoff, packet)
        paged = await self._page_oncall(handoff, packet)  # safety never waits: before the customer is told
        # The customer hears about the takeover before any agent can claim it, so an agent's greeting
        # never arrives ahead of the ticket number.
        announcement = await self._announcement(handoff, paged)
        await self.deliver(message.channel, OutboundMessage(
            conversation_id=handoff.conversation_id, text=announcement.text, role="system"))
        if announcement.promise_due is not None:  # the customer was just promised a contact by then
            await self.followups.promise(ticket.id, announcement.promise_due, announcement.promise_what, "system")
        await self.publish(Queued(handoff.summary()))
        log.info("handoff %s: %s (%s) via %s, %s", ticket.id, decision.reason, decision.source,
                 message.channel, conversation_id)
        await self._pause(conversation_id)
        if self.settings.webhook_url and self.http is not None and paged is None:  # a page posted it already
            self._spawn(self._post_webhook(packet))

    async def _announcement(self, handoff: Handoff, paged: bool | None) -> Announcement:
        """The honest message: "outside hours" only when no agent is online; a paged safety report says so.

        ``paged``: None when no page was needed, else whether the on-call page reached anyone.
        """
        lang, now = handoff.lang, datetime.now(UTC)
        texts = []
        if handoff.reason == "safety":
            texts.append(self.settings.guidance(lang) or t("takeover.safety_guidance", lang))
        texts.append(t("takeover.taken", lang, ticket=handoff.ticket_id))
        position = await self.store.position(handoff.ticket_id) or 1
        agents = await self.store.agents_online()
        promise: tuple[float | None, str] = (None, "")
        if paged:
            texts.append(t("oncall.safety_paged", lang, ticket=handoff.ticket_id))
            promise = (now.timestamp() + ONCALL_FOLLOWUP_S,
                       "Safety on-call: make sure a specialist has contacted the customer.")
        elif agents == 0 and not self.settings.is_open(now):
            opens = self.settings.next_opening(now)
            hours = f"{self.settings.opens:%H:%M}-{self.settings.closes:%H:%M}"
            texts.append(t("takeover.closed_hours", lang, hours=hours, ticket=handoff.ticket_id,
                           opens=t("format.datetime", lang, dt=opens.astimezone(self.settings.tz))))
            promise = (opens.timestamp(), "Contact the customer: they were told we would when agents start.")
        elif agents == 0:
            texts.append(t("takeover.no_agents", lang, position=position))
        else:
            minutes = max(1, math.ceil(position / agents) * self.settings.minutes_per_case)
            texts.append(t("takeover.wait", lang, position=position, agents=agents, minutes=minutes))
        # One message: it goes out before agents see the ticket, and rate-limited channels (Telegram's
        # one message a second per chat) would hold a ticket back by a second for each extra message.
        return Announcement("\n\n".join(texts), *promise)

    async def _safety_agents_online(self) -> int:
        presence = await self.store.presence()
        return sum(1 for p in presence.values()
                   if p.get("status") == "online" and SAFETY_TEAM in team_list(p.get("team") or ""))

    async def _page_oncall(self, handoff: Handoff, packet: dict[str, Any]) -> bool | None:
        """A safety report outside working hours, or with no safety agent online, pages the helpdesk webhook and
        the on-call contact at once. None when no page is needed; else True when at least one answered 2xx."""
        if handoff.reason != "safety":
            return None
        now = datetime.now(UTC)
        if self.settings.is_open(now) and await self._safety_agents_online():
            return None
        why = "outside_hours" if not self.settings.is_open(now) else "no_safety_agent_online"
        log.warning("handoff %s: safety report, %s: paging on-call", handoff.ticket_id, why)
        if not self.settings.pager or self.http is None:
            log.error("handoff %s: no on-call contact or helpdesk webhook configured; nobody could be paged",
                      handoff.ticket_id)
            return False
        page = {"type": "safety_page", "why": why, "ticket": handoff.ticket_id, "priority": handoff.priority,
                "channel": handoff.channel, "lang": handoff.lang, "trigger_text": handoff.trigger_text,
                "customer_id": handoff.customer_id or None, "created_at": handoff.created_at}
        targets = []
        if self.settings.oncall_url:
            targets.append(self._post(self.settings.oncall_url, self.settings.oncall_token, page, "on-call page"))
        if self.settings.webhook_url:
            targets.append(self._post(self.settings.webhook_url, self.settings.webhook_token,
                                      packet | {"page": page}, "helpdesk page"))
        answered = await asyncio.gather(*targets)
        return any(answered)

    async def _post(self, url: str, token: str, body: dict[str, Any], what: str) -> bool:
        """POST ``body`` as JSON (bearer ``token``); True on a 2xx answer within PAGE_TIMEOUT_S."""
        assert self.http is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self.http.post(url, json=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=PAGE_TIMEOUT_S)) as response:
                if response.status < 300:
                    return True
                log.error("%s answered HTTP %s", what, response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.error("%s failed: %s", what, error)
        return False

    async def _pause(self, conversation_id: str) -> None:
        # The gateway's own state already keeps Rasa out; the pause keeps Rasa's tracker honest too.
        try:
            await self.rasa.pause(conversation_id)
        except (RasaUnavailable, RasaProtocolError) as error:
            log.warning("conversation %s: could not pause Rasa (%s); the gateway still holds it",
                        conversation_id, error)

    async def _resume(self, handoff: Handoff) -> None:
        """Give Rasa's tracker back. A failure is not left there (the bot would stay silent for this customer):
        it is retried in the background until it succeeds (kefu/handoff/resumes.py), and the agent sees a note."""
        try:
            await self.rasa.resume(handoff.conversation_id)
        except (RasaUnavailable, RasaProtocolError) as error:
            log.error("conversation %s: could not resume Rasa (%s); retrying in the background",
                      handoff.conversation_id, error)
            await PendingResumes(self.redis).add(handoff.conversation_id, handoff.ticket_id)
            await self._system_note(handoff.ticket_id, "reliability.resume_failed")

    async def retry_resumes(self, now: float | None = None) -> int:
        """Try the failed hand-backs that are due (every pipeline calls this); returns how many succeeded."""
        pending = PendingResumes(self.redis)
        resumed = 0
        for item in await pending.claim_due(now):
            resumed += await self._retry_resume(pending, item)
        return resumed

    async def ensure_resumed(self, conversation_id: str) -> None:
        """Before the bot answers a conversation whose hand-back failed: resume it now, or raise RasaUnavailable
        so the message waits (as for any Rasa outage) instead of reaching a paused tracker and going unanswered."""
        pending = PendingResumes(self.redis)
        item = await pending.get(conversation_id)
        if item is not None and not await self._retry_resume(pending, item):
            raise RasaUnavailable(f"conversation {conversation_id} is still paused in Rasa")

    async def _retry_resume(self, pending: PendingResumes, item: PendingResume) -> bool:
        try:
            await self.rasa.resume(item.conversation_id)
        except (RasaUnavailable, RasaProtocolError) as error:
            log.warning("conversation %s: resume attempt %s failed (%s)", item.conversation_id, item.attempts + 1,
                        error)
            await pending.add(item.conversation_id, item.ticket_id, item.attempts + 1)
            return False
        await pending.done(item.conversation_id)
        log.info("conversation %s: resumed after %s failed attempts", item.conversation_id, item.attempts)
        await self._system_note(item.ticket_id, "reliability.resumed")
        return True

    async def _system_note(self, ticket_id: str, key: str) -> None:
        """A note from Kefu itself on the ticket, in both languages, live on the agents' screens."""
        handoff = await self.store.get(ticket_id)
        if handoff is None:
            return
        note = {"agent": "system", "text": f"{t(key, 'zh')} / {t(key, 'en')}", "ts": time.time(),
                "ticket": ticket_id}
        await self.store.add_note(notes_subject(handoff), note)
        await self.publish(Note(ticket_id, note))

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

    async def promise_followup(self, ticket_id: str, agent: str, due_at: float, what: str,
                               supervisor: bool = False) -> FollowUp:
        """An agent's promise to the customer ("I'll call you back by 12:00"), tracked until kept or closed."""
        handoff = await self._acting(ticket_id, agent, supervisor)
        if due_at <= time.time():
            raise HandoffError("a follow-up is due in the future")
        followup = await self.followups.promise(handoff.ticket_id, due_at, what, agent)
        await self.publish(FollowUpAlert("promised", followup.to_dict()))
        return followup

    async def followup_kept(self, ticket_id: str, agent: str, supervisor: bool = False) -> bool:
        await self._acting(ticket_id, agent, supervisor)
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

    async def _acting(self, ticket_id: str, agent: str, supervisor: bool) -> Handoff:
        """An active handoff this agent may act on: they hold it, or they are a supervisor (issue 9 #7)."""
        handoff = await self._active(ticket_id)
        if not supervisor and (handoff.status != "assigned" or handoff.agent != agent):
            raise ClaimRefused(ticket_id)
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
        await service_times.first_response(self.redis, ticket_id, time.time())  # the SLA's clock stops
        await self.publish(Message(ticket_id, message.to_dict() | {"channel": handoff.channel, "agent": agent}))
        return message

    async def note(self, ticket_id: str, agent: str, text: str, supervisor: bool = False) -> dict[str, Any]:
        """A private note: never shown to the customer, kept with the customer across handoffs. By the holder, or
        a supervisor (who may also note on a finished ticket)."""
        handoff = await self.store.get(ticket_id)
        if handoff is None:
            raise HandoffError(f"no handoff {ticket_id}")
        if not supervisor:
            await self._acting(ticket_id, agent, supervisor)
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

    async def transfer_to_team(self, ticket_id: str, agent: str, team: str, supervisor: bool = False,
                               waiting_ok: bool = False) -> Handoff:
        """Back into the queue, for ``team`` first (kefu/handoff/teams.py); the customer is told nothing new.

        A still-waiting handoff is re-routed only with ``waiting_ok`` (the console checked it is routed to the
        agent) or by a supervisor; an assigned one only by its holder or a supervisor.
        """
        handoff = await self._active(ticket_id)
        if handoff.status == "waiting" and (waiting_ok or supervisor):
            queued = await self.store.requeue(handoff, team)
            await self.publish(Queued(queued.summary(), by=agent))
            log.info("handoff %s: %s re-routed it to team %s", ticket_id, agent, team)
            return queued
        handoff = await self._held_by(ticket_id, agent, supervisor)
        queued = await self.store.requeue(handoff, team, "" if supervisor else agent)
        await self.publish(Queued(queued.summary(), by=agent))
        log.info("handoff %s: %s transferred it to team %s", ticket_id, agent, team)
        return queued

    async def close(self, ticket_id: str, agent: str, resolution: str, supervisor: bool = False) -> Handoff:
        """Close with a resolution category; the customer is told, and the bot answers again afterwards."""
        if resolution not in RESOLUTIONS or not has(f"takeover.resolution.{resolution}"):
            raise HandoffError(f"resolution must be one of {RESOLUTIONS}")
        handoff = await self._acting(ticket_id, agent, supervisor)
        text = t("takeover.closed", handoff.lang, ticket=ticket_id,
                 resolution=t(f"takeover.resolution.{resolution}", handoff.lang))
        return await self._finish(handoff, agent, supervisor, "closed", resolution, "resolved", text)

    async def hand_back(self, ticket_id: str, agent: str, supervisor: bool = False,
                        told: str = "takeover.handed_back") -> Handoff:
        """Give the conversation back to the bot (Rasa resumes); the customer is told (``told``: the text's key)."""
        handoff = await self._acting(ticket_id, agent, supervisor)
        text = t(told, handoff.lang, ticket=ticket_id)
        return await self._finish(handoff, agent, supervisor, "returned", "handed_back", "closed", text)

    async def _finish(self, handoff: Handoff, agent: str, supervisor: bool, status: str, resolution: str,
                      ticket_status: str, text: str) -> Handoff:
        if not await self.store.finish(handoff, status, resolution, "" if supervisor else agent):
            raise HandoffError(f"{handoff.ticket_id} is no longer active")
        await self._resume(handoff)
        await self.followups.kept(handoff.ticket_id)
        await self.tickets.update_status(handoff.ticket_id, ticket_status, text)
        finished = replace(handoff, status=status, resolution=resolution)
        # What the customer said before this is settled: the next turns are read without it (after()).
        await self.redis.hset(keys.conversation(handoff.conversation_id), SETTLED_AT, str(time.time()))
        await self.publish(Finished(finished.summary()))
        await self.deliver(handoff.channel, OutboundMessage(
            conversation_id=handoff.conversation_id, text=text, role="system"))
        for hook in self.on_finished:
            await hook(finished)
        return finished

    # -- the inbox: pending the customer, snoozed until a time ----------------------------------------------

    async def set_inbox(self, ticket_id: str, agent: str, inbox: str, until: float = 0.0,
                        supervisor: bool = False) -> Handoff:
        """Open, pending the customer, or snoozed until ``until`` (epoch seconds, in the future): by the holder
        or a supervisor. The customer's next message, or the snooze's time, brings it back to open."""
        if inbox not in INBOX_STATES:
            raise HandoffError(f"status must be one of {INBOX_STATES}")
        if inbox == "snoozed" and until <= time.time():
            raise HandoffError("a snooze ends in the future")
        await self._acting(ticket_id, agent, supervisor)
        changed = await self.store.set_inbox(ticket_id, inbox, until if inbox == "snoozed" else 0.0)
        assert changed is not None
        await self.publish(InboxChanged(changed.summary(), by=agent))
        return changed

    async def wake_snoozed(self, now: float | None = None) -> list[Handoff]:
        """Bring back the snoozed handoffs whose time has come (each once, whichever process gets it)."""
        woken = await self.store.wake_due(time.time() if now is None else now)
        for handoff in woken:
            log.info("handoff %s: snooze over, back in the inbox", handoff.ticket_id)
            await self.publish(InboxChanged(handoff.summary(), by="snooze"))
        return woken

    async def watch_snoozed(self, every_s: float = SNOOZE_CHECK_S) -> None:
        """Wake snoozed handoffs until cancelled; every gateway and worker runs one (a wake is claimed in Redis)."""
        while True:
            try:
                await self.wake_snoozed()
            except (aioredis.ConnectionError, aioredis.TimeoutError) as error:
                log.warning("snoozed handoffs: Redis unavailable (%s); retrying", error)
            await asyncio.sleep(every_s)

    # -- what the console reads and announces (it never reaches into the store) ----------------------------

    async def recent_handoffs(self, limit: int = 500) -> list[Handoff]:
        """The newest handoffs in any status, newest first (the inbox's resolved view and search)."""
        return await self.store.recent(limit)

    async def stored_packet(self, ticket_id: str) -> dict[str, Any]:
        """The packet as stored at the handoff (cheap: search reads the orders and phones in it)."""
        return await self.store.packet(ticket_id) or {}

    async def order(self, order_id: str) -> Order | None:
        """One order from the backend, None when unknown or the backend is down (search by order id)."""
        try:
            return await self.context.backend.get_order(order_id)
        except (OrderNotFound, BackendUnavailable):
            return None

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


def _offers_a_person(turn: RasaTurn) -> bool:
    return any(button.payload == "/request_human" for reply in turn.replies for button in reply.buttons)
