"""Quality review in the console (``/console/api/qa/...``): supervisors read the sampled queue and score items
on the rubric (kefu/core/reviews.py); every agent reads the reviews of their own conversations.

GET  queue                  (supervisors) {"waiting": [item], "reviewed": [item]}
GET  items/{id}             (supervisors; an agent only a reviewed item of their own) {"item", "transcript"}
POST items/{id}/review      (supervisors) {"right_answer": 1-5, "empathy": 1-5, "followed_rules": bool,
                             "promise_kept": bool|null, "comment": str}
GET  mine                   {"reviews": [item]}: the signed-in agent's reviewed conversations
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from kefu.console import inputs
from kefu.console.auth import signed_in
from kefu.console.errors import json_error
from kefu.console.roles import supervisors_only
from kefu.console.state import HANDOFF, SESSION, SETTINGS
from kefu.core.reviews import QAItem, QAQueue, Review, ReviewError
from kefu.core.visits import SESSION_GAP_S


def _queue(request: web.Request) -> QAQueue:
    return QAQueue(request.app[HANDOFF].redis, request.app[SETTINGS].service_levels.qa_share)


async def _item(request: web.Request) -> QAItem:
    item = await _queue(request).get(request.match_info["item"])
    if item is None:
        raise json_error(web.HTTPNotFound, "not_found")
    return item


async def queue(request: web.Request) -> web.StreamResponse:
    qa = _queue(request)
    return web.json_response({"waiting": [i.to_dict() for i in await qa.waiting()],
                              "reviewed": [i.to_dict() for i in await qa.reviewed()]})


async def transcript(request: web.Request, item: QAItem) -> list[dict[str, Any]]:
    """What was said in the sampled exchange (for a handoff, also the half hour of bot turns before it)."""
    entries = await request.app[HANDOFF].conversations.transcript(item.conversation_id)
    since = item.started_at - (SESSION_GAP_S if item.kind == "agent" else 0)
    return [entry for entry in entries if since <= float(entry.get("ts") or 0) <= item.finished_at + 1]


async def item(request: web.Request) -> web.StreamResponse:
    found = await _item(request)
    user = request[SESSION].user
    if not user.supervisor and (found.review is None or found.agent != user.name):
        raise json_error(web.HTTPNotFound, "not_found")
    return web.json_response({"item": found.to_dict(), "transcript": await transcript(request, found)})


async def review(request: web.Request) -> web.StreamResponse:
    found = await _item(request)
    try:
        scored = Review.from_form(await inputs.body(request), request[SESSION].user.name)
    except ReviewError as error:
        raise json_error(web.HTTPBadRequest, str(error)) from None
    reviewed = await _queue(request).review(found.id, scored)
    assert reviewed is not None
    return web.json_response({"ok": True, "item": reviewed.to_dict()})


async def mine(request: web.Request) -> web.StreamResponse:
    reviews = await _queue(request).of_agent(request[SESSION].user.name)
    return web.json_response({"reviews": [i.to_dict() for i in reviews]})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/console/api/qa/queue", signed_in(supervisors_only(queue))),
        web.get("/console/api/qa/mine", signed_in(mine)),
        web.get("/console/api/qa/items/{item}", signed_in(item)),
        web.post("/console/api/qa/items/{item}/review", signed_in(supervisors_only(review))),
    ]
