"""Web chat's limits, counted in Redis so every gateway process shares them: one script per decision.

Sockets: a sorted set per address and per conversation holds each open socket with the time its slot lapses;
the gateway holding the socket renews it (``renew``), so a crashed gateway's sockets free their slots within
``SOCKET_SLOT_TTL_S``. Messages: a counter per address and per conversation for the current minute. New
visitors: the anonymous visitor ids that started a conversation from an address in the current hour. A refusal
changes nothing (no counter moves), so refused traffic never locks a legitimate customer out for longer.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.config.webchat import WebChatSettings
from kefu.core import keys

SOCKET_SLOT_TTL_S = 90
SOCKET_RENEW_S = 30  # a socket's slot is renewed this often, well inside its TTL
MESSAGE_WINDOW_S = 60
VISITOR_WINDOW_S = 3600
# A refused socket is told to try again after this: sockets close when customers leave, not on a clock.
SOCKET_RETRY_S = SOCKET_RENEW_S

# KEYS: 1 sockets of the address, 2 of the conversation. ARGV: 1 socket id, 2 now, 3 its slot lapses at,
# 4/5 the address/conversation limit (0: none), 6 the sets' TTL. Returns 0, or the number of the full set.
_OPEN = """
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[2]) end
for i = 1, 2 do
  local limit = tonumber(ARGV[3 + i])
  if limit > 0 and redis.call('ZSCORE', KEYS[i], ARGV[1]) == false and redis.call('ZCARD', KEYS[i]) >= limit then
    return i
  end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[6])
end
return 0
"""

# KEYS: 1 the message's dedupe key (kefu:seen:...), 2 new visitors of the address, 3/4 messages of the
# conversation/address this minute. ARGV: 1 the visitor id when the conversation has not started yet, else '',
# 2 new-visitor limit, 3 its window, 4/5 conversation/address message limits, 6 their window (limits 0: none).
# A message already taken in (the widget resending after a lost ack) is let through uncounted: it is not
# queued twice anyway. Returns {'' , 0} or {what is full, seconds until it frees}.
_MESSAGE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {'', 0} end
local new_visitor = ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0
if new_visitor and tonumber(ARGV[2]) > 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  return {'visitors', redis.call('TTL', KEYS[2])}
end
local scopes = {'conversation', 'address'}
for i = 3, 4 do
  local limit = tonumber(ARGV[i + 1])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    return {scopes[i - 2], redis.call('TTL', KEYS[i])}
  end
end
for i = 3, 4 do
  redis.call('INCR', KEYS[i])
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[6]) end
end
if new_visitor then
  redis.call('SADD', KEYS[2], ARGV[1])
  if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
end
return {'', 0}
"""

SOCKET_SCOPES = ("address", "conversation")


@dataclass(frozen=True)
class Refusal:
    """Why a socket or message was refused (``scope``: address, conversation or visitors) and when to retry."""

    scope: str
    retry_after_s: int


@dataclass(frozen=True)
class Slot:
    """One open socket as the socket limits count it."""

    socket_id: str
    conversation_id: str
    address: str  # the limit key (kefu/channels/webchat/address.py)


class WebChatLimits:
    def __init__(self, redis: aioredis.Redis, settings: WebChatSettings) -> None:
        self.redis = redis
        self.settings = settings
        self._open = redis.register_script(_OPEN)
        self._message = redis.register_script(_MESSAGE)

    async def open_socket(self, slot: Slot) -> Refusal | None:
        now = time.time()
        full = await self._open(
            keys=self._slot_keys(slot),
            args=[slot.socket_id, now, now + SOCKET_SLOT_TTL_S, self.settings.sockets_per_address,
                  self.settings.sockets_per_conversation, SOCKET_SLOT_TTL_S],
        )
        return Refusal(SOCKET_SCOPES[int(full) - 1], SOCKET_RETRY_S) if int(full) else None

    async def close_socket(self, slot: Slot) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self._slot_keys(slot):
                pipe.zrem(key, slot.socket_id)
            await pipe.execute()

    async def renew(self, slots: Iterable[Slot]) -> None:
        """Keep this process's sockets counted (and count them again after Redis lost its data)."""
        lapses = time.time() + SOCKET_SLOT_TTL_S
        async with self.redis.pipeline(transaction=False) as pipe:
            for slot in slots:
                for key in self._slot_keys(slot):
                    pipe.zadd(key, {slot.socket_id: lapses})
                    pipe.expire(key, SOCKET_SLOT_TTL_S)
            await pipe.execute()

    async def admit_message(self, message_id: str, slot: Slot, new_visitor: str | None) -> Refusal | None:
        """Count one message, or refuse it before it reaches the inbox (nothing is counted then)."""
        settings = self.settings
        scope, ttl = await self._message(
            keys=[keys.seen("web", message_id), keys.webchat_new_visitors(slot.address),
                  keys.webchat_messages("conversation", slot.conversation_id),
                  keys.webchat_messages("address", slot.address)],
            args=[new_visitor or "", settings.new_visitors_per_hour_per_address, VISITOR_WINDOW_S,
                  settings.messages_per_minute_per_conversation, settings.messages_per_minute_per_address,
                  MESSAGE_WINDOW_S],
        )
        if not scope:
            return None
        window = VISITOR_WINDOW_S if scope == "visitors" else MESSAGE_WINDOW_S
        return Refusal(str(scope), max(1, int(ttl)) if int(ttl) > 0 else window)

    @staticmethod
    def _slot_keys(slot: Slot) -> list[str]:
        return [keys.webchat_sockets("address", slot.address),
                keys.webchat_sockets("conversation", slot.conversation_id)]
