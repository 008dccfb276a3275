"""Retention settings from the environment: defaults, overrides, refusals."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.retention import RetentionSettings


def test_defaults_bound_everything() -> None:
    retention = RetentionSettings.from_env({})
    assert retention == RetentionSettings()
    assert retention.done_ttl_s == 86_400 and retention.context_max_orders == 20


def test_overrides_and_refusals() -> None:
    retention = RetentionSettings.from_env({"KEFU_RETENTION_UNDERSTANDING_S": "60", "KEFU_CONTEXT_MAX_ORDERS": "5"})
    assert retention.understanding_ttl_s == 60 and retention.context_max_orders == 5
    with pytest.raises(SettingsError, match="KEFU_RETENTION_DONE_S"):
        RetentionSettings.from_env({"KEFU_RETENTION_DONE_S": "0"})
