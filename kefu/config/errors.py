"""The one error a bad setting raises, so start-up code catches one class whatever part of the tree failed."""
from __future__ import annotations


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable, so the fix is obvious from the log."""
