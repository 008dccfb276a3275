"""Development secrets for this machine: made once in .kefu/dev.env, never committed.

Production sets KEFU_RASA_TOKEN and KEFU_IDENTITY_SECRET in the environment; those always win.
"""
from __future__ import annotations

import os
import secrets

from kefu.config.settings import PROJECT_ROOT

DEV_ENV = PROJECT_ROOT / ".kefu" / "dev.env"
GENERATED = ("KEFU_RASA_TOKEN", "KEFU_IDENTITY_SECRET")


def load_dev_env() -> None:
    """Fill missing secrets from .kefu/dev.env, creating the file with random values the first time."""
    if not DEV_ENV.exists():
        DEV_ENV.parent.mkdir(parents=True, exist_ok=True)
        DEV_ENV.write_text("".join(f"{name}={secrets.token_urlsafe(32)}\n" for name in GENERATED))
        DEV_ENV.chmod(0o600)
    for line in DEV_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() and not os.environ.get(name.strip()):
            os.environ[name.strip()] = value.strip()
