"""``python -m kefu users add NAME --role agent|supervisor [--team safety]``: console accounts from the shell."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

import redis.asyncio as aioredis

from kefu.console.users import ROLES, UserError, UserStore
from kefu.handoff.teams import DEFAULT_TEAM


def add_parser(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="console accounts for agents and supervisors")
    actions = users.add_subparsers(dest="users_command", required=True)
    add = actions.add_parser("add", help="create (or reset) an account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--display-name", default="")
    add.add_argument("--team", default=DEFAULT_TEAM, help=f"routing team, e.g. safety (default {DEFAULT_TEAM})")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=run)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise UserError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from kefu.cli.redis_check import redis_missing
    from kefu.ops.runtime import settings_from_env

    settings = settings_from_env()
    if redis_missing(settings.redis_url):
        return 2

    async def add() -> str:
        client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            user = await UserStore(client).add(args.name, args.role, _password(args), args.display_name,
                                               args.team)
        finally:
            await client.aclose()
        return f"{user.name} ({user.role}, team {user.team}) saved"

    try:
        print(asyncio.run(add()))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
