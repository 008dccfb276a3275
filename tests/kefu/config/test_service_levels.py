"""Service levels from the environment: first-response targets per priority, the QA share, the metrics token."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.service_levels import ServiceLevels


def test_defaults() -> None:
    levels = ServiceLevels.from_env({})
    assert dict(levels.first_response_s) == {"urgent": 60, "high": 300, "normal": 900}
    assert (levels.qa_share, levels.metrics_token, levels.target("unknown")) == (0.05, "", 900)


def test_configured() -> None:
    levels = ServiceLevels.from_env({"KEFU_SLA_URGENT_S": "30", "KEFU_SLA_NORMAL_S": "1200", "KEFU_QA_SHARE": "0.2",
                                     "KEFU_METRICS_TOKEN": " tok "})
    assert (levels.target("urgent"), levels.target("high"), levels.target("normal")) == (30, 300, 1200)
    assert (levels.qa_share, levels.metrics_token) == (0.2, "tok")


@pytest.mark.parametrize(("env", "named"), [
    ({"KEFU_QA_SHARE": "5%"}, "KEFU_QA_SHARE"), ({"KEFU_QA_SHARE": "1.5"}, "KEFU_QA_SHARE"),
    ({"KEFU_SLA_HIGH_S": "0"}, "KEFU_SLA_HIGH_S"), ({"KEFU_SLA_URGENT_S": "soon"}, "KEFU_SLA_URGENT_S"),
])
def test_bad_values_are_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        ServiceLevels.from_env(env)
