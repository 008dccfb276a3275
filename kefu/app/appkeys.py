"""The gateway's typed application state, declared in one place (the console keeps its own, kefu/console/state.py)."""
from __future__ import annotations

from aiohttp import web

from kefu.app.services import Services
from kefu.channels.base import ChannelReceiver
from kefu.pipeline.pipeline import Pipeline

SERVICES = web.AppKey("services", Services)
RECEIVERS = web.AppKey("receivers", dict[str, ChannelReceiver])
PIPELINE = web.AppKey("pipeline", Pipeline)
