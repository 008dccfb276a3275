"""A signed-in console agent over HTTP and the console websocket, as the page's script would be."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from kefu.console.users import UserStore
from kefu.handoff.teams import DEFAULT_TEAM


async def add_user(redis_url: str, name: str, role: str = "agent", team: str = DEFAULT_TEAM) -> str:
    """Create an account; returns its password."""
    password = secrets.token_urlsafe(16)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await UserStore(client).add(name, role, password, team=team)
    finally:
        await client.aclose()
    return password


class Agent:
    def __init__(self, base_url: str, http: aiohttp.ClientSession, csrf: str) -> None:
        self.base_url = base_url
        self.http = http
        self.csrf = csrf
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.events: list[dict[str, Any]] = []

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.base_url + path) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Origin": self.base_url}
        async with self.http.post(self.base_url + path, json=body or {}, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def act(self, ticket: str, action: str, **body: Any) -> tuple[int, Any]:
        return await self.post(f"/console/api/tickets/{ticket}/{action}", body)

    async def connect(self) -> dict[str, Any]:
        """Open the live websocket; returns the board snapshot."""
        self.socket = await self.http.ws_connect(self.base_url + "/console/ws", headers={"Origin": self.base_url})
        return await self.socket.receive_json(timeout=10)

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        assert self.socket is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if match(event):
                    self.events.remove(event)
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching console event; saw {self.events[-5:]}")
            self.events.append(await self.socket.receive_json(timeout=remaining))


def cookie_jar(base_url: str) -> aiohttp.CookieJar:
    # The console's cookie is Secure; 127.0.0.1 is a secure origin for development, as browsers treat it.
    return aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base_url])


@asynccontextmanager
async def signed_in(base_url: str, name: str, password: str) -> AsyncIterator[Agent]:
    async with aiohttp.ClientSession(cookie_jar=cookie_jar(base_url)) as http:
        async with http.post(base_url + "/console/login", json={"username": name, "password": password},
                             headers={"Origin": base_url}) as response:
            assert response.status == 200, await response.text()
        async with http.get(base_url + "/console/api/me") as response:
            me = await response.json()
        agent = Agent(base_url, http, me["csrf"])
        try:
            yield agent
        finally:
            if agent.socket is not None:
                await agent.socket.close()
