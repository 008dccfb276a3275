"""Counting wrong guesses at a short secret (an order's last 4 phone digits) so it cannot be found by trying.

A 4-digit proof has 10,000 values and order ids are sequential: without a bound, trying them one by one opens
any order. Each attempt counts against several counters at once (the guesser's conversation or channel user,
the order, the customer...), each with its own limit and a fixed window:

- **Check and count in one step** (one Lua script): concurrent guesses cannot all pass the check before any of
  them is counted, so no burst gets more wrong answers than the limit allows.
- **Counters expire, never reset**: a success deletes nothing, so proving one order (or one's own) buys no
  fresh guesses at another, and a success in one place never clears another place's counter.
- **Right answers are refused too once a counter is full**: otherwise the lock would still tell a guesser
  which try was right.

Used by the chat's anonymous order check (actions/resolve.py) and by channel linking
(kefu/channels/linking.py), which share the per-order counter: the digits of one order are one secret,
whichever door a guesser knocks on.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys

ORDER_PROOF_WINDOW_S = 3600
"""Wrong digits against one order are counted in fixed one-hour windows, then forgotten (the key expires)."""
ORDER_PROOF_LIMIT = 5
"""Wrong tries against one order per window, from anywhere (any conversation, channel user, chat or door):
a fresh identity per guess gets no further, and a customer who mistypes twice is not locked out."""


@dataclass(frozen=True)
class Counter:
    """One thing an attempt counts against: its Redis key, how many wrong tries it allows, for how long."""

    key: str
    limit: int
    window_s: int


class Verdict(enum.IntEnum):
    """What one attempt may do, given every counter it counted against (the worst counter decides)."""

    OPEN = 0
    """Within every limit: answer it."""
    SPENT = 1
    """A wrong try that used a counter's last allowed try: later tries are refused (the caller may say so now)."""
    LOCKED = 2
    """A counter was already full: refused, right or wrong, until its window ends."""


def order_proof(order_id: str) -> Counter:
    """The per-order counter every proof of an order's phone digits counts against, wherever it is made."""
    return Counter(keys.verify_failures("order", order_id), ORDER_PROOF_LIMIT, ORDER_PROOF_WINDOW_S)


# KEYS: the counters. ARGV[1]: '1' when this try was wrong (it is counted), '0' when right (only checked);
# then a (limit, window seconds) pair per counter. A wrong try increments every counter (the window starts at
# the first wrong try and is never extended); it is SPENT (1) when a counter reaches its limit exactly and
# LOCKED (2) past it. A right try is LOCKED when any counter is at its limit. Returns the worst verdict.
_ATTEMPT = """
local wrong = ARGV[1] == '1'
local verdict = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  if wrong then
    local count = redis.call('INCR', key)
    if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[2 * i + 1]) end
    if count > limit then verdict = 2 elseif count == limit and verdict < 1 then verdict = 1 end
  elseif tonumber(redis.call('GET', key) or '0') >= limit then
    verdict = 2
  end
end
return verdict
"""


class AttemptLimiter:
    """Records attempts against counters and says, in the same round trip, whether they may be answered."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._attempt = redis.register_script(_ATTEMPT)

    async def attempt(self, counters: Sequence[Counter], wrong: bool) -> Verdict:
        """Count this attempt (only a wrong one counts) and return the verdict of the fullest counter.

        Call it after checking the guess and before answering it, with the outcome of the check: the
        answer (right or wrong) is only given when the verdict allows.
        """
        if not counters:
            return Verdict.OPEN
        args: list[int] = [int(wrong)]
        for counter in counters:
            args += [counter.limit, counter.window_s]
        return Verdict(int(await self._attempt(keys=[c.key for c in counters], args=args)))
