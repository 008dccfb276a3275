"""Kefu's Rasa action server package: `python -m rasa_sdk --actions actions` registers the actions below."""
from __future__ import annotations

from actions import runtime
from actions.actions import *  # noqa: F401,F403 - importing the Action classes is what registers them

# Read and validate the configuration now, so a missing setting stops the server at start-up, by name.
runtime.configure()
