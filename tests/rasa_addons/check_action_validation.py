"""Runs inside .venv-rasa: action server answers are validated as Rasa validates them, faster. One JSON line."""
from __future__ import annotations

import json
import time

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from rasa_addons import action_validation

GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "DD1"}],
        "responses": [{"text": "ok", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]}
BAD = {"events": [{"name": "order_id"}], "responses": "not a list"}


def verdict(action: RemoteAction, result: dict) -> str:
    try:
        action._validate_action_result(result)
        return "valid"
    except ValidationError as error:
        return "invalid: " + error.message


def timed(action: RemoteAction, rounds: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        action._validate_action_result(GOOD)
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    action = RemoteAction("action_check", EndpointConfig("http://127.0.0.1:1/webhook"))
    stock = {"good": verdict(action, GOOD), "bad": verdict(action, BAD), "ms": timed(action)}
    action_validation.install()
    installed = {"good": verdict(action, GOOD), "bad": verdict(action, BAD), "ms": timed(action)}
    print(json.dumps({"stock": stock, "installed": installed}))


if __name__ == "__main__":
    main()
