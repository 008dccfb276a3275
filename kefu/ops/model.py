"""The trained Rasa model: named by a fingerprint of its inputs, so training happens only when they change."""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kefu.config.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
MODELS_DIR = PROJECT_ROOT / "models"
HANDOFF_DATA = PROJECT_ROOT / "data" / "handoff"


def fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def rasa_env() -> dict[str, str]:
    """Rasa's environment: no telemetry (no network here), quiet TensorFlow, this project importable."""
    return os.environ | {
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(PROJECT_ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


# Rasa's training data; data/handoff/ is the handoff classifier's (kefu/handoff), not Rasa's.
RASA_DATA = ("data/nlu", "data/rules.yml")


def train_handoff(force: bool = False) -> Path:
    """The handoff classifier's artifact (models/handoff-<fingerprint>.npz), rebuilt only when data/handoff/ or
    its code changed, so `setup` and `train` always run it."""
    from kefu.handoff.training import build

    return build(HANDOFF_DATA, MODELS_DIR, force=force)


def train(
    name: str = "kefu",
    config: str = "config.yml",
    data: list[str] | None = None,
    force: bool = False,
) -> Path:
    """Train (when the inputs changed) and return the model file; the handoff classifier too, on a thread beside
    Rasa's training process (each is a few minutes of mostly single-core work, so side by side the pair takes
    about as long as the longer one)."""
    if name != "kefu":
        return _train_rasa(name, config, data, force)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-handoff-train") as pool:
        handoff = pool.submit(train_handoff, force)
        model = _train_rasa(name, config, data, force)
        handoff.result()
    return model


def _train_rasa(name: str, config: str, data: list[str] | None, force: bool) -> Path:
    data = data or list(RASA_DATA)
    # The components config.yml names from rasa_addons/ (the sentence encoder) shape the model as much as its
    # data; the other addons (the channel, the tracker store) are loaded by `rasa run`, not baked in.
    config_text = (PROJECT_ROOT / config).read_text(encoding="utf-8")
    addons = [p for p in sorted((PROJECT_ROOT / "rasa_addons").glob("*.py")) if f"rasa_addons.{p.stem}." in config_text]
    inputs = [PROJECT_ROOT / config, PROJECT_ROOT / "domain.yml", *addons]
    for folder in data:
        target = PROJECT_ROOT / folder
        inputs += sorted(target.rglob("*.yml")) if target.is_dir() else [target]
    model_name = f"{name}-{fingerprint(inputs)}"
    model = MODELS_DIR / f"{model_name}.tar.gz"
    if model.exists() and not force:
        log.info("model %s is up to date", model.name)
        return model
    if not RASA_BIN.exists():
        raise RuntimeError(f"{RASA_BIN} is missing: run `make setup` first")
    started = time.monotonic()
    command = [str(RASA_BIN), "train", "--config", config, "--domain", "domain.yml",
               "--out", str(MODELS_DIR), "--fixed-model-name", model_name, "--data", *data]
    log.info("training %s: %s", model_name, " ".join(command))
    # No training cache: writing every component's output to .rasa/cache cost ~30 s a training, and a change of
    # data (the usual reason to train) misses it anyway.
    subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_env() | {"RASA_MAX_CACHE_SIZE": "0"}, check=True)
    log.info("trained %s in %.0f s", model.name, time.monotonic() - started)
    for old in MODELS_DIR.glob(f"{name}-{'?' * len(model_name.rsplit('-', 1)[1])}.tar.gz"):
        if old != model:
            old.unlink()
    return model
