"""The durable inbox: every customer message is written to a Redis Stream before the channel acknowledges it.

Messages are sharded by conversation, so one conversation is processed in order while different
conversations proceed in parallel; whichever gateway holds a shard's lease consumes it. Taking a message in is
one round trip (a script): it sits on every channel's acknowledgement path.
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

# Dedupe, queue and transcript in one atomic step: a retried delivery can never be half-stored. The sender's
# address on the channel is remembered (how replies find their way back), and a waiting request is registered
# before the message is queued, so even the fastest reply finds it.
_SUBMIT = """
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

    async def submit(self, message: InboundMessage, waiting: Waiting | None = None) -> bool:
        """Persist the message and its transcript entry; False when this message id was already taken in
        (then ``waiting`` is not registered either: the first delivery's answer is on its way)."""
        return await self._store(message, queue=True, waiting=waiting)

    async def record(self, message: InboundMessage) -> bool:
        """Keep the message in the transcript (deduplicated) without asking the bot: e.g. a photo, a location,
        a subscribe event, which the channel answers itself but agents should still see."""
        return await self._store(message, queue=False)

    async def _store(self, message: InboundMessage, *, queue: bool, waiting: Waiting | None = None) -> bool:
        script_keys = [
            keys.seen(message.channel, message.message_id),
            keys.inbox_stream(shard_of(message.conversation_id, self.shards)),
            keys.transcript(message.conversation_id),
            keys.conversation(message.conversation_id),
            keys.address(message.conversation_id),
            waiting.key if waiting else keys.seen(message.channel, message.message_id),
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
        ]
        return bool(await self._submit(keys=script_keys, args=args))

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
