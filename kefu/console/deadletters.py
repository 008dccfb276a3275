"""The dead letters people see (issue 9, defect 3): the messages the pipeline gave up on (kefu/core/deadletter.py),
with the customer's words, where and when, the error; each marked handled or retried (queued again) once.

GET  /console/dead-letters                  the page (static/deadletters.html, deadletters.js)
GET  /console/api/deadletters?lang=zh|en    {"letters": [view], "texts": {...}, "lang", "timezone", "csrf"}
POST /console/api/deadletters/{id}/handled  {"letter": view}; 409 {"error": "done"} when already acted on
POST /console/api/deadletters/{id}/retry    the same, and the message goes back into the inbox once

Supervisors see every letter. An agent sees a letter only while its conversation is held by a handoff the agent
may see (kefu/console/access.py: the ``bot_error`` handoff the pipeline opened for it, routed like any other), and
acts on it only as that handoff's holder; anything else is a 404, so letter ids reveal nothing. Everything sent is
``redacted`` (no visitor id reaches a console).
"""
from __future__ import annotations

from aiohttp import web

from kefu.console import board, pages
from kefu.console.access import may_act, may_see
from kefu.console.api import respond
from kefu.console.auth import session_of, signed_in
from kefu.console.errors import json_error
from kefu.console.state import HANDOFF, SESSION, SETTINGS
from kefu.core.deadletter import DeadLetter, DeadLetterError, DeadLetters
from kefu.core.i18n import LANGUAGES, catalog, normalise_lang

ASSETS = {"deadletters.js"}
TEXT_PREFIXES = ("deadletters.", "console.channel.")
LIST_COUNT = 200
ACTIONS = {"handled": "handled", "retry": "retried"}


def _letters(request: web.Request) -> DeadLetters:
    manager = request.app[HANDOFF]
    return DeadLetters(manager.redis, request.app[SETTINGS].retention.dead_letter_max)


async def _allowed(request: web.Request, letter: DeadLetter, acting: bool) -> bool:
    user = request[SESSION].user
    if user.supervisor:
        return True
    manager = request.app[HANDOFF]
    if not letter.conversation_id:
        return False
    holding = await manager.store.holding(await manager.conversations.live_id(letter.conversation_id))
    if holding is None:
        return False
    return may_act(holding, user) if acting else may_see(holding, user, await board.online(manager))


async def page(request: web.Request) -> web.StreamResponse:
    if await session_of(request) is None:
        raise web.HTTPFound("/console/login")
    return pages._html("deadletters.html")


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    response = web.FileResponse(pages.STATIC_DIR / name,
                                headers={"Content-Type": "text/javascript; charset=utf-8"})
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def listing(request: web.Request) -> web.StreamResponse:
    session = request[SESSION]
    lang = request.query.get("lang") or session.user.locale or ""
    if lang and lang not in LANGUAGES:
        raise json_error(web.HTTPBadRequest, "lang", allowed=list(LANGUAGES))
    lang = normalise_lang(lang)
    letters = [letter.view() for letter in await _letters(request).recent(LIST_COUNT)
               if await _allowed(request, letter, acting=False)]
    texts = {key: text for key, text in catalog()[lang].items() if key.startswith(TEXT_PREFIXES)}
    return respond({"letters": letters, "texts": texts, "lang": lang, "csrf": session.csrf,
                    "timezone": request.app[SETTINGS].shop.timezone})


async def act(request: web.Request) -> web.StreamResponse:
    status = ACTIONS.get(request.match_info["action"])
    if status is None:
        raise json_error(web.HTTPNotFound, "not_found")
    store = _letters(request)
    letter = await store.get(request.match_info["letter"])
    if letter is None or not await _allowed(request, letter, acting=True):
        raise json_error(web.HTTPNotFound, "not_found")
    try:
        done = await store.act(letter.id, status, request[SESSION].user.name, request.app[SETTINGS].shards)
    except DeadLetterError as error:
        raise json_error(web.HTTPConflict if error.code == "done" else web.HTTPBadRequest, error.code,
                         state=letter.state) from None
    return respond({"letter": done.view()})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/console/dead-letters", page),
        web.get("/console/dead-letters/{name}", asset),
        web.get("/console/api/deadletters", signed_in(listing)),
        web.post("/console/api/deadletters/{letter}/{action}", signed_in(act)),
    ]
