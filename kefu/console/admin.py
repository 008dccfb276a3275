"""A supervisor's console settings and each agent's preferences: teams and memberships (several teams per
agent), the console language an agent chose (remembered on their account), and the console's dictionary.

The page's labels come from the server's locales (kefu/core/locales, the ``console`` section and the labels
agents also need), so the console speaks the same Chinese and English as the bot.
"""
from __future__ import annotations

from aiohttp import web

from kefu.console import inputs
from kefu.console.errors import json_error
from kefu.console.state import SESSION, USERS
from kefu.console.users import UserError
from kefu.core.i18n import LANGUAGES, catalog, normalise_lang

DICTIONARY_PREFIXES = ("console.", "label.", "takeover.resolution.")


def _supervisor(request: web.Request) -> None:
    if not request[SESSION].user.supervisor:
        raise json_error(web.HTTPForbidden, "supervisor")


async def dictionary(request: web.Request) -> web.StreamResponse:
    """``GET /console/api/i18n?lang=zh``: the console's texts in one language (cacheable by the browser)."""
    lang = request.query.get("lang", "")
    if lang not in LANGUAGES:
        raise json_error(web.HTTPBadRequest, "lang", allowed=list(LANGUAGES))
    texts = {key: text for key, text in catalog()[normalise_lang(lang)].items()
             if key.startswith(DICTIONARY_PREFIXES)}
    return web.json_response({"lang": lang, "texts": texts})


async def prefs(request: web.Request) -> web.StreamResponse:
    """``POST /console/api/prefs {"locale": "zh"|"en"}``: the agent's console language, on every device."""
    locale = (await inputs.body(request)).get("locale")
    try:
        await request.app[USERS].set_locale(request[SESSION].user.name, str(locale))
    except UserError as error:
        raise json_error(web.HTTPBadRequest, str(error)) from None
    return web.json_response({"ok": True, "locale": locale})


async def teams(request: web.Request) -> web.StreamResponse:
    """Every team with its members (anyone signed in may read it: it is the transfer list)."""
    users = request.app[USERS]
    everyone = await users.everyone()
    listed = [{"name": team, "members": [u.name for u in everyone if team in u.teams]}
              for team in await users.teams()]
    agents = [{"name": u.name, "display_name": u.display_name, "role": u.role, "teams": list(u.teams)}
              for u in everyone]
    return web.json_response({"teams": listed, "agents": agents})


async def create_team(request: web.Request) -> web.StreamResponse:
    """``POST /console/api/teams {"name"}`` (supervisors)."""
    _supervisor(request)
    name = str((await inputs.body(request)).get("name") or "").strip()
    try:
        await request.app[USERS].create_team(name)
    except UserError as error:
        raise json_error(web.HTTPBadRequest, str(error)) from None
    return web.json_response({"ok": True, "team": name})


async def memberships(request: web.Request) -> web.StreamResponse:
    """``POST /console/api/agents/{name}/teams {"teams": [...]}`` (supervisors): replace an agent's teams.
    Applies at once: sessions read the account on every request."""
    _supervisor(request)
    teams = (await inputs.body(request)).get("teams")
    if not isinstance(teams, list) or not teams or not all(isinstance(team, str) for team in teams):
        raise json_error(web.HTTPBadRequest, "teams: a non-empty list of team names")
    users = request.app[USERS]
    known = set(await users.teams())
    if unknown := [team for team in teams if team not in known]:
        raise json_error(web.HTTPBadRequest, "unknown_team", teams=unknown)
    try:
        user = await users.set_teams(request.match_info["name"], teams)
    except UserError as error:
        raise json_error(web.HTTPNotFound, str(error)) from None
    return web.json_response({"ok": True, "name": user.name, "teams": list(user.teams)})
