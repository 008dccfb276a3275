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


def link_failures(channel: str, user_id: str) -> str:
    return f"{PREFIX}linkfail:{channel}:{user_id}"


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
