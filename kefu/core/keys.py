"""Every Redis key and pub/sub channel Kefu uses, named in one place (all under the ``kefu:`` prefix).

Keys that Lua scripts touch are still passed in as KEYS[...] built here, so a script never invents a name.
"""
from __future__ import annotations

PREFIX = "kefu:"

# -- conversations and the inbox (kefu/core) --------------------------------------------------------------
CONVERSATION_PREFIX = f"{PREFIX}conv:"
INBOX_PREFIX = f"{PREFIX}inbox:"
TICKET_COUNTER = f"{PREFIX}ticket:counter"


def conversation(conversation_id: str) -> str:
    """The conversation's record (hash: channel, customer, language, merged_into...)."""
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def reply_state(message_id: str) -> str:
    """String "kept" / "sent", expiring: a reply delivered again (its entry replayed) is neither stored nor sent twice."""
    return f"{PREFIX}reply:{message_id}"


def transcript(conversation_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}:transcript"


def understanding(conversation_id: str) -> str:
    """What the NLU understood of each customer turn (hash: message id -> JSON)."""
    return f"{CONVERSATION_PREFIX}{conversation_id}:nlu"


def undelivered(conversation_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}:undelivered"


def inbox_stream(shard: int) -> str:
    return f"{INBOX_PREFIX}{shard}"


def seen(channel: str, message_id: str) -> str:
    """A channel's message id already taken in (retries and redeliveries are deduplicated by it)."""
    return f"{PREFIX}seen:{channel}:{message_id}"


def address(conversation_id: str) -> str:
    """Where on each channel the conversation's customer is reached (hash: channel -> user id)."""
    return f"{PREFIX}addr:{conversation_id}"


def ticket(ticket_id: str) -> str:
    return f"{PREFIX}ticket:{ticket_id}"


def customer_tickets(customer_id: str) -> str:
    return f"{PREFIX}customer:{customer_id}:tickets"


# -- the pipeline (kefu/pipeline) --------------------------------------------------------------------------
def shard_lease(shard: int) -> str:
    return f"{PREFIX}lease:{shard}"


def entry_done(shard: int, entry_id: str) -> str:
    """An inbox entry whose replies were stored and delivered: never answered again after a crash."""
    return f"{PREFIX}done:{inbox_stream(shard)}:{entry_id}"


# -- the action server (actions/) ---------------------------------------------------------------------------
def verify_failures(scope: str, subject: str) -> str:
    """Wrong phone digits for anonymous order access, counted per scope (conversation, order, address)."""
    return f"{PREFIX}verifyfail:{scope}:{subject}"


# -- channels (kefu/channels) ------------------------------------------------------------------------------
def web_out_channel(conversation_id: str) -> str:
    """Pub/sub channel of a web-chat conversation's replies."""
    return f"{PREFIX}out:{conversation_id}"


def link(channel: str, user_id: str) -> str:
    return f"{PREFIX}link:{channel}:{user_id}"


def link_failures(scope: str, subject: str) -> str:
    """Wrong link tries in a fixed window (kefu/channels/linking.py): scope a channel name for its users, or
    ``customer``, ``<channel>-person``."""
    return f"{PREFIX}linkfail:{scope}:{subject}"


WECHAT_PREFIX = f"{PREFIX}wx"  # wechatpy's shared access_token storage prefix


def wechat_window(openid: str) -> str:
    """Present while WeChat's 48-hour customer-service window is open for this user."""
    return f"{WECHAT_PREFIX}:window:{openid}"


def wechat_nonce(timestamp: int, nonce: str) -> str:
    return f"{WECHAT_PREFIX}:nonce:{timestamp}:{nonce}"


def wechat_waiter(conversation_id: str) -> str:
    """The webhook request waiting for this conversation's passive reply."""
    return f"{WECHAT_PREFIX}:wait:{conversation_id}"


def wechat_passive_channel(process: str) -> str:
    return f"{WECHAT_PREFIX}:passive:{process}"


def wechat_token_lock(appid: str) -> str:
    return f"{WECHAT_PREFIX}:token-lock:{appid}"


TELEGRAM_PAUSE = f"{PREFIX}tg:pause"


def telegram_next_send(chat_id: str) -> str:
    return f"{PREFIX}tg:next:{chat_id}"


def telegram_second(second: int) -> str:
    return f"{PREFIX}tg:sec:{second}"


def telegram_part_sent(part_id: str) -> str:
    return f"{PREFIX}tg:sent:{part_id}"


# -- handoff and the console (kefu/handoff, kefu/console) -------------------------------------------------
HANDOFF_QUEUE = f"{PREFIX}handoff:queue"
PRESENCE = f"{PREFIX}handoff:presence"
CONSOLE_EVENTS = f"{PREFIX}console:events"
FOLLOWUPS_DUE = f"{PREFIX}followups:due"


def handoff_of_conversation(conversation_id: str) -> str:
    return f"{PREFIX}handoff:conv:{conversation_id}"


def handoff(ticket_id: str) -> str:
    return f"{PREFIX}handoff:t:{ticket_id}"


def handoff_context(ticket_id: str) -> str:
    return f"{PREFIX}handoff:context:{ticket_id}"


def handoff_reminded(ticket_id: str) -> str:
    return f"{PREFIX}handoff:reminded:{ticket_id}"


def handoff_offer(conversation_id: str) -> str:
    """String, expiring: the bot has just asked whether the customer wants a person (a typed yes accepts)."""
    return f"{PREFIX}handoff:offer:{conversation_id}"


def notes(subject: str) -> str:
    return f"{PREFIX}notes:{subject}"


def followup(ticket_id: str) -> str:
    return f"{PREFIX}followup:{ticket_id}"


def followup_alerted(ticket_id: str, due_at: float, stage: str) -> str:
    return f"{PREFIX}followup:alerted:{ticket_id}:{due_at:.0f}:{stage}"


def console_user(name: str) -> str:
    return f"{PREFIX}console:user:{name}"


def console_session(token: str) -> str:
    return f"{PREFIX}console:session:{token}"


def console_login_failures(name: str) -> str:
    """Failed console sign-ins for one account name (existing or not) in the current window."""
    return f"{PREFIX}console:loginfail:user:{name}"


def console_login_address_failures(address: str) -> str:
    """Failed console sign-ins from one client address, whatever account they named."""
    return f"{PREFIX}console:loginfail:addr:{address}"


# -- demo data (kefu/orders/demo.py) -----------------------------------------------------------------------
DEMO_PREFIX = f"{PREFIX}demo:"


# -- the agents' inbox (kefu/handoff/state.py, kefu/console) ---------------------------------------------
HANDOFF_INDEX = f"{PREFIX}handoff:index"  # every handoff by creation time (the inbox's resolved view, search)
HANDOFF_SNOOZED = f"{PREFIX}handoff:snoozed"  # snoozed handoffs by the time they come back
CONSOLE_TEAMS = f"{PREFIX}console:teams"  # teams a supervisor created (besides the built-in ones and members')


# -- reliability: error boundary, idempotency, hand-back retries (kefu/pipeline, kefu/handoff, kefu/orders) ------
DEAD_LETTERS = f"{PREFIX}deadletter"  # stream: inbox entries the pipeline gave up on, for agents and operators
RESUME_PENDING = f"{PREFIX}handoff:resume"  # sorted set: conversations whose Rasa resume failed, by next attempt
RESUME_DETAILS = f"{PREFIX}handoff:resume:details"  # hash: conversation -> {ticket, attempts} of RESUME_PENDING


def entry_progress(shard: int, entry_id: str) -> str:
    """How far an inbox entry got (hash: Rasa's answer, the handoff decision, replies delivered), so a replayed
    entry never asks Rasa twice."""
    return f"{PREFIX}progress:{inbox_stream(shard)}:{entry_id}"


def shard_heartbeat(shard: int) -> str:
    """Present (with a TTL) while a worker's loop serves this shard; /healthz reads it."""
    return f"{PREFIX}heartbeat:{shard}"


def order_operation(idempotency_key: str) -> str:
    """The result of an order operation (demo backend) done under this idempotency key."""
    return f"{DEMO_PREFIX}op:{idempotency_key}"


# -- web chat: the shared reply subscriber and the limits (kefu/channels/webchat) ----------------------------
WEB_OUT_PATTERN = f"{PREFIX}out:*"  # every web_out_channel: one subscription per gateway process


def web_out_conversation(channel: str) -> str:
    """The conversation id a web_out_channel name carries (the inverse of web_out_channel)."""
    return channel.removeprefix(f"{PREFIX}out:")


def webchat_sockets(scope: str, subject: str) -> str:
    """Open web-chat sockets of one address or conversation (sorted set: socket id -> when its slot lapses)."""
    return f"{PREFIX}webchat:sockets:{scope}:{subject}"


def webchat_messages(scope: str, subject: str) -> str:
    """Web-chat messages of one address or conversation in the current minute (a counter with a TTL)."""
    return f"{PREFIX}webchat:messages:{scope}:{subject}"


def webchat_new_visitors(address: str) -> str:
    """Anonymous visitor ids that started a conversation from this address in the current hour (a set)."""
    return f"{PREFIX}webchat:visitors:{address}"


# -- service commitments: proactive updates, CSAT (kefu/commitments, kefu/core/ratings.py) ----------------
RATINGS = f"{PREFIX}ratings"  # hash: rating id -> JSON
RATINGS_BY_TIME = f"{PREFIX}ratings:by_time"  # sorted set: rating id -> when it was given


def ratings_of_conversation(conversation_id: str) -> str:
    return f"{PREFIX}ratings:conv:{conversation_id}"


def rating_of_ticket(ticket_id: str) -> str:
    return f"{PREFIX}ratings:ticket:{ticket_id}"


def order_event_seen(event_id: str) -> str:
    """An order event taken in (its id is the idempotency key): never sent to the customer twice."""
    return f"{PREFIX}orderevents:event:{event_id}"


def order_event_request(signature: str) -> str:
    """A signed order-events request already received: the exact same request again is a replay."""
    return f"{PREFIX}orderevents:request:{signature}"


def updates_opted_out(conversation_id: str) -> str:
    """Present when the customer asked for no more proactive order updates."""
    return f"{PREFIX}updates:optout:{conversation_id}"


def updates_pending(conversation_id: str) -> str:
    """Updates the channel could not deliver now (WeChat's window), sent at the customer's next contact (list)."""
    return f"{PREFIX}updates:pending:{conversation_id}"


def followup_late_told(ticket_id: str, due_at: float) -> str:
    """The customer was told once that this follow-up is late."""
    return f"{PREFIX}updates:late:{ticket_id}:{due_at:.0f}"


def csat_pending(conversation_id: str) -> str:
    """A satisfaction survey waiting for the customer's score or comment (JSON, with a TTL)."""
    return f"{PREFIX}csat:pending:{conversation_id}"


def csat_asked(conversation_id: str) -> str:
    """Present while the conversation may not be asked again (the survey's cool-down)."""
    return f"{PREFIX}csat:asked:{conversation_id}"


# -- service levels, quality review, the dashboard (kefu/core/service_times.py, visits.py, reviews.py) --------
FOLLOWUP_LEDGER = f"{PREFIX}stats:followups"  # sorted set: "ticket|due" -> due time, every promise made
FOLLOWUP_LEDGER_KEPT = f"{PREFIX}stats:followups:kept"  # hash: "ticket|due" -> when it was kept
VISITS = f"{PREFIX}stats:visits"  # sorted set: visit id -> when the exchange started


def visit(visit_id: str) -> str:
    """One exchange of a conversation (hash: conversation, channel, started_at, handoff, ended)."""
    return f"{PREFIX}stats:visit:{visit_id}"


def open_visit(conversation_id: str) -> str:
    """The conversation's exchange still going on (its id, with a TTL of the session gap)."""
    return f"{PREFIX}stats:visit:open:{conversation_id}"


QA_ITEMS = f"{PREFIX}qa:items"  # hash: item id -> JSON (the sampled conversation and its review)
QA_QUEUE = f"{PREFIX}qa:queue"  # sorted set: items waiting for a review, by when they were sampled
QA_REVIEWED = f"{PREFIX}qa:reviewed"  # sorted set: reviewed items, by when they were reviewed


def qa_of_agent(agent: str) -> str:
    """Reviewed items of one agent's conversations ("bot" for the bot's), by review time."""
    return f"{PREFIX}qa:agent:{agent}"


def qa_decided(subject: str) -> str:
    """Present once a finished conversation was considered for sampling: it is drawn once."""
    return f"{PREFIX}qa:decided:{subject}"
METRICS_PROCESSES = f"{PREFIX}metrics:processes"  # hash: process -> its counters' latest exposition (JSON)


# -- linking and unlinking channel users (kefu/channels/linking.py, kefu/console/links.py) -------------------
def customer_links(customer_id: str) -> str:
    """Set of ``<channel>:<user_id>`` linked to this customer, so an agent can see and undo each link."""
    return f"{PREFIX}links:{customer_id}"


# -- Rasa outages and dead letters people act on (kefu/pipeline/outage.py, kefu/core/deadletter.py) ---------
RASA_DOWN_SINCE = f"{PREFIX}rasa:down_since"  # string: when Rasa was first found unreachable (epoch s), expiring
OUTAGE_PARKED = f"{PREFIX}outage:parked"  # set: bot_unavailable tickets with customer messages kept for the bot


def outage_parked(ticket_id: str) -> str:
    """Hash: message id -> message JSON, what the customer sent while Rasa was down, answered by the bot once Rasa
    is back unless an agent took the ticket."""
    return f"{PREFIX}outage:parked:{ticket_id}"


DEAD_LETTER_STATE = f"{PREFIX}deadletter:state"  # hash: dead letter id -> JSON {status handled|retried, by, at}


# -- executed order operations, for the fault bench (kefu/orders/demo.py, bench/faults.py) ------------------
ORDER_OPERATIONS_DONE = f"{DEMO_PREFIX}ops:done"  # stream: {operation, order_id, key} per operation really run
