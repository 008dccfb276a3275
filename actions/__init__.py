"""Kefu's Rasa action server package: `python -m rasa_sdk --actions actions` registers the actions below."""
from __future__ import annotations

from actions import runtime
from actions.actions import *

# Read and validate the configuration now, so a missing setting stops the server at start-up, by name.
runtime.configure()
