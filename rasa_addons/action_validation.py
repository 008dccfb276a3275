"""Rasa checks every action server answer against a JSON schema, and half of a turn's CPU went there.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which first validates the schema itself
against its meta-schema and builds a new validator, on every custom action (py-spy on a loaded Rasa: ~50% of
the process's CPU, README "Performance"). The schema is a constant, so ``install`` puts in a validator built
once: the same checks, the same ``ValidationError`` with the same message, without the repeated set-up.
Installed by the modules ``rasa run`` loads from this project (the Kefu channel); runs in .venv-rasa.
"""
from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    # The error jsonschema.validate would raise: the most relevant one, not merely the first found.
    error: ValidationError | None = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Validate action server answers with the validator built once (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
