"""The supervisor dashboard's numbers for a date range, computed from what Redis keeps: exchanges (visits),
handoffs and their clocks, tickets' categories, ratings and promised follow-ups.

Days are the shop's (its time zone): a range is from the start of its first day to the end of its last.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from kefu.config.service_levels import ServiceLevels
from kefu.core import keys
from kefu.core.ratings import BY_BOT, Rating, RatingStore
from kefu.core.service_times import HandoffTimes, followups_due, handoffs_between
from kefu.core.tickets import Ticket
from kefu.core.visits import Visit, Visits
from kefu.handoff.decision import PRIORITY_RANK

PRIORITIES = tuple(sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__))
REASONS = ("safety", "complaint", "human")
DEFAULT_DAYS = 7
MAX_DAYS = 366
TOP_CATEGORIES = 10


class RangeError(ValueError):
    """A date range the dashboard cannot read; the message names the parameter."""


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> float:
        return datetime.combine(self.first, datetime.min.time(), tzinfo=self.tz).timestamp()

    @property
    def end(self) -> float:
        """The last instant of the last day (the next day's start is not in the range)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=self.tz).timestamp() - 1e-3

    @classmethod
    def parse(cls, first: str | None, last: str | None, tz: ZoneInfo, now: float | None = None) -> DateRange:
        """``from``/``to`` as YYYY-MM-DD in the shop's time zone, both included; the last 7 days by default."""
        today = datetime.fromtimestamp(time.time() if now is None else now, tz).date()
        end = _day(last, "to") if last else today
        start = _day(first, "from") if first else end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise RangeError("from: not after to")
        if (end - start).days >= MAX_DAYS:
            raise RangeError(f"from: at most {MAX_DAYS} days before to")
        return cls(start, end, tz)


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RangeError(f"{name}: a date as YYYY-MM-DD") from None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (the value at or below which ``share`` of them lie); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def conversations(visits: Iterable[Visit], tz: ZoneInfo) -> dict[str, Any]:
    """Exchanges started per hour of the day (shop time), per channel."""
    by_channel: dict[str, list[int]] = {}
    for visit in visits:
        hours = by_channel.setdefault(visit.channel or "unknown", [0] * 24)
        hours[datetime.fromtimestamp(visit.started_at, tz).hour] += 1
    return {"total": sum(map(sum, by_channel.values())), "hours": list(range(24)),
            "by_channel": dict(sorted(by_channel.items()))}


def bot_resolution(visits: Sequence[Visit]) -> dict[str, Any]:
    resolved = sum(1 for visit in visits if visit.bot_resolved)
    return {"visits": len(visits), "bot_resolved": resolved, "handed_off": len(visits) - resolved,
            "ended_by_customer": sum(1 for visit in visits if visit.ended and visit.bot_resolved),
            "rate": _rounded(resolved / len(visits), 4) if visits else None}


def handoffs_by_reason(handoffs: Sequence[HandoffTimes]) -> dict[str, Any]:
    counted = Counter(handoff.reason for handoff in handoffs)
    return {"total": len(handoffs), "by_reason": {reason: counted.get(reason, 0) for reason in REASONS}
            | {reason: n for reason, n in counted.items() if reason not in REASONS}}


def waiting(handoffs: Sequence[HandoffTimes]) -> dict[str, Any]:
    """Time in the queue until an agent took it (claimed), p50 and p90 per priority, in seconds."""
    result = {}
    for priority in PRIORITIES:
        mine = [h for h in handoffs if h.priority == priority]
        waits = [h.claimed_at - h.created_at for h in mine if h.claimed_at]
        result[priority] = {"claimed": len(waits), "p50_s": _rounded(percentile(waits, 0.5)),
                            "p90_s": _rounded(percentile(waits, 0.9)),
                            "still_waiting": sum(1 for h in mine if h.status == "waiting")}
    return result


def first_response_sla(handoffs: Sequence[HandoffTimes], levels: ServiceLevels, now: float) -> dict[str, Any]:
    """Per priority: how many got a person's first words within the target, and the breaches (answered late, or
    unanswered past the target); ``rate`` is the share within target of those that could be judged."""
    result = {}
    for priority in PRIORITIES:
        target = levels.target(priority)
        mine = [h for h in handoffs if h.priority == priority]
        breached = sum(1 for h in mine if h.breached(target, now))
        judged = [h for h in mine if h.first_response_s() is not None or now - h.created_at > target]
        within = len(judged) - breached
        result[priority] = {"target_s": target, "handoffs": len(mine), "within": within, "breached": breached,
                            "unanswered": sum(1 for h in mine if h.first_response_s() is None),
                            "rate": _rounded(within / len(judged), 4) if judged else None}
    return result


def _csat_of(ratings: Sequence[Rating]) -> dict[str, Any]:
    scores = [0] * 5
    for rating in ratings:
        scores[rating.score - 1] += 1
    average = sum(r.score for r in ratings) / len(ratings) if ratings else None
    return {"count": len(ratings), "average": _rounded(average, 2), "scores": scores}


def csat(ratings: Sequence[Rating]) -> dict[str, Any]:
    """Satisfaction of the bot's exchanges and of the agents' tickets, and per agent."""
    by_agent: dict[str, list[Rating]] = {}
    for rating in ratings:
        if rating.by != BY_BOT:
            by_agent.setdefault(rating.by, []).append(rating)
    return {"bot": _csat_of([r for r in ratings if r.by == BY_BOT]),
            "agents": _csat_of([r for r in ratings if r.by != BY_BOT]),
            "by_agent": {agent: _csat_of(rated) for agent, rated in sorted(by_agent.items())}}


async def compute(redis: aioredis.Redis, span: DateRange, levels: ServiceLevels,
                  now: float | None = None) -> dict[str, Any]:
    """Every number the dashboard draws, for handoffs, exchanges and ratings in the range (follow-ups by due)."""
    now = time.time() if now is None else now
    start, end = span.start, span.end
    visits = await Visits(redis).between(start, end)
    handoffs = await handoffs_between(redis, start, end)
    raw_tickets = await redis.mget([keys.ticket(h.ticket_id) for h in handoffs]) if handoffs else []
    categories = Counter(ticket.category for ticket in map(Ticket.from_json, filter(None, raw_tickets))
                         if ticket.category)
    followups = Counter(outcome.state(now) for outcome in await followups_due(redis, start, end))
    return {
        "range": {"from": span.first.isoformat(), "to": span.last.isoformat(), "timezone": span.tz.key,
                  "start": start, "end": end},
        "conversations": conversations(visits, span.tz),
        "bot": bot_resolution(visits),
        "handoffs": handoffs_by_reason(handoffs),
        "waiting": waiting(handoffs),
        "sla": first_response_sla(handoffs, levels, now),
        "csat": csat(await RatingStore(redis).between(start, end)),
        "followups": {state: followups.get(state, 0) for state in ("kept", "missed", "pending")},
        "categories": [{"category": name, "count": count} for name, count in
                       sorted(categories.items(), key=lambda item: (-item[1], item[0]))[:TOP_CATEGORIES]],
    }


def csv_rows(stats: dict[str, Any]) -> list[list[str]]:
    """The same numbers as rows (section, name, detail, value), for a spreadsheet."""
    rows = [["section", "name", "detail", "value"],
            ["range", "from", "", stats["range"]["from"]], ["range", "to", "", stats["range"]["to"]],
            ["range", "timezone", "", stats["range"]["timezone"]]]
    for channel, hours in stats["conversations"]["by_channel"].items():
        rows += [["conversations", channel, f"{hour:02d}:00", str(n)] for hour, n in enumerate(hours)]
    rows += [["bot", name, "", _cell(value)] for name, value in stats["bot"].items()]
    rows += [["handoffs", reason, "", str(n)] for reason, n in stats["handoffs"]["by_reason"].items()]
    for section in ("waiting", "sla"):
        rows += [[section, priority, name, _cell(value)]
                 for priority, values in stats[section].items() for name, value in values.items()]
    for who in ("bot", "agents"):
        rows += [["csat", who, name, _cell(value)] for name, value in stats["csat"][who].items() if name != "scores"]
    rows += [["csat_agent", agent, name, _cell(value)]
             for agent, values in stats["csat"]["by_agent"].items() for name, value in values.items()
             if name != "scores"]
    rows += [["followups", state, "", str(n)] for state, n in stats["followups"].items()]
    rows += [["categories", row["category"], "", str(row["count"])] for row in stats["categories"]]
    return rows


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
