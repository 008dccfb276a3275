"""The durable inbox: every customer message is written to a Redis Stream before the channel acknowledges it.

Messages are sharded by conversation, so one conversation is processed in order while different
conversations proceed in parallel; whichever gateway holds a shard's lease consumes it. Taking a message in is
one round trip (a script): it sits on every channel's acknowledgement path, so a channel's own checks of the
request (``Arrival``: a replayed nonce, WeChat's 48-hour window, the user's link) are made in the same script.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import customer_entry
from kefu.core.messages import InboundMessage

GROUP = "pipeline"
SEEN_TTL_S = 7 * 24 * 3600
# How long a conversation remembers where its customer is reached on each channel.
ADDRESS_TTL_S = 90 * 24 * 3600

def _arrival_lua(key: int, arg: int) -> str:
    """An arrival's checks (``Arrival``), reading KEYS[key..key+2] and ARGV[arg..arg+3], ARGV[arg] '1' when there
    is one. They come first and store nothing when they fail: the link is read before the nonce is spent, so the
    caller can choose the conversation again with the same request; {'link', <customer>} says the link moved."""
    return f"""
if ARGV[{arg}] == '1' then
  local linked = redis.call('GET', KEYS[{key}]) or ''
  if linked ~= ARGV[{arg + 1}] then return {{'link', linked}} end
  if not redis.call('SET', KEYS[{key + 1}], '1', 'NX', 'EX', ARGV[{arg + 2}]) then return -1 end
  redis.call('SET', KEYS[{key + 2}], '1', 'EX', ARGV[{arg + 3}])
end
"""


_ARRIVE = _arrival_lua(1, 1) + "return 1"
# Dedupe, queue and transcript in one atomic step: a retried delivery can never be half-stored. The sender's
# address on the channel is remembered (how replies find their way back), and a waiting request is registered
# before the message is queued, so even the fastest reply finds it.
_SUBMIT = _arrival_lua(7, 12) + """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if ARGV[9] ~= '' then redis.call('SET', KEYS[6], ARGV[9], 'PX', ARGV[10]) end
if ARGV[7] == '1' then redis.call('XADD', KEYS[2], '*', 'message', ARGV[2]) end
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('HSET', KEYS[4], 'channel', ARGV[4], 'updated_at', ARGV[5])
redis.call('HSETNX', KEYS[4], 'created_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[4], 'customer_id', ARGV[6]) end
redis.call('HSET', KEYS[5], ARGV[4], ARGV[8])
redis.call('EXPIRE', KEYS[5], ARGV[11])
return 1
"""


@dataclass(frozen=True)
class Arrival:
    """A channel's checks of the request a message came in, made atomically with storing it.

    ``once`` must not exist yet (a nonce: a replayed request is refused) and is then kept ``once_ttl_s``;
    ``touch`` is set for ``touch_ttl_s`` (WeChat's customer-service window); ``link`` is the key the
    conversation was chosen by and ``linked`` the customer it held then ('' for none).
    """

    once: str
    once_ttl_s: int
    touch: str
    touch_ttl_s: int
    link: str
    linked: str = ""

    def keys(self) -> list[str]:
        return [self.link, self.once, self.touch]

    def args(self) -> list[str | int]:
        return ["1", self.linked, self.once_ttl_s, self.touch_ttl_s]


class Replayed(Exception):
    """The arrival's ``once`` key was there already: the same request again (nothing was stored)."""


class LinkChanged(Exception):
    """The user's link is no longer what the conversation was chosen by (another process linked or unlinked them
    meanwhile): nothing was stored; choose the conversation of ``customer_id`` and take the message in again."""

    def __init__(self, customer_id: str | None) -> None:
        super().__init__(customer_id)
        self.customer_id = customer_id


def _checked(result: int | list[str]) -> int:
    """The script's answer, with a failed arrival raised."""
    if isinstance(result, list):
        raise LinkChanged(result[1] or None)
    if result == -1:
        raise Replayed()
    return result


@dataclass(frozen=True)
class Waiting:
    """A request waiting for the reply (WeChat's passive reply): ``key`` is set to ``token`` for ``ttl_ms``."""

    key: str
    token: str
    ttl_ms: int


def shard_of(conversation_id: str, shards: int) -> int:
    return zlib.crc32(conversation_id.encode()) % shards


def idempotency_key(message: InboundMessage) -> str:
    """The message's idempotency key: the inbox takes a channel's message id in once, so channel + message id
    names one customer message for good. Carried to Rasa and the actions (``metadata["idempotency_key"]``), where
    an order operation done twice under it is done once. Hashed: opaque, fixed length, safe in an HTTP header."""
    return hashlib.sha256(f"{message.channel}\x1f{message.message_id}".encode()).hexdigest()[:32]


class Inbox:
    """Accepts inbound messages exactly once per channel message id."""

    def __init__(self, redis: aioredis.Redis, shards: int, seen_ttl_s: int = SEEN_TTL_S) -> None:
        self.redis = redis
        self.shards = shards
        self.seen_ttl_s = seen_ttl_s
        self._submit = redis.register_script(_SUBMIT)
        self._arrive = redis.register_script(_ARRIVE)

    async def submit(self, message: InboundMessage, waiting: Waiting | None = None,
                     arrival: Arrival | None = None) -> bool:
        """Persist the message and its transcript entry; False when this message id was already taken in
        (then ``waiting`` is not registered either: the first delivery's answer is on its way). With an
        ``arrival`` its checks come first: Replayed or LinkChanged, and nothing stored."""
        return await self._store(message, queue=True, waiting=waiting, arrival=arrival)

    async def record(self, message: InboundMessage, arrival: Arrival | None = None) -> bool:
        """Keep the message in the transcript (deduplicated) without asking the bot: e.g. a photo, a location,
        a subscribe event, which the channel answers itself but agents should still see."""
        return await self._store(message, queue=False, arrival=arrival)

    async def arrive(self, arrival: Arrival) -> None:
        """The arrival's checks alone, for a request whose message is not stored (an empty text)."""
        _checked(await self._arrive(keys=arrival.keys(), args=arrival.args()))

    async def _store(self, message: InboundMessage, *, queue: bool, waiting: Waiting | None = None,
                     arrival: Arrival | None = None) -> bool:
        seen = keys.seen(message.channel, message.message_id)  # stands in for the keys a call does not use
        script_keys = [
            seen,
            keys.inbox_stream(shard_of(message.conversation_id, self.shards)),
            keys.transcript(message.conversation_id),
            keys.conversation(message.conversation_id),
            keys.address(message.conversation_id),
            waiting.key if waiting else seen,
            *(arrival.keys() if arrival else [seen] * 3),
        ]
        args = [
            self.seen_ttl_s,
            message.to_json(),
            json.dumps(customer_entry(message), ensure_ascii=False),
            message.channel,
            message.received_at,
            message.customer_id or "",
            "1" if queue else "0",
            message.sender,
            waiting.token if waiting else "",
            waiting.ttl_ms if waiting else 0,
            ADDRESS_TTL_S,
            *(arrival.args() if arrival else ["0", "", 0, 0]),
        ]
        return bool(_checked(await self._submit(keys=script_keys, args=args)))

    async def ensure_groups(self) -> None:
        for shard in range(self.shards):
            await self.ensure_group(shard)

    async def ensure_group(self, shard: int) -> None:
        """Create the shard's stream and consumer group unless they exist: at start, and again after Redis lost
        them (a restart without persistence, a FLUSHALL), which Redis reports as NOGROUP."""
        try:
            await self.redis.xgroup_create(keys.inbox_stream(shard), GROUP, id="0", mkstream=True)
        except aioredis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
