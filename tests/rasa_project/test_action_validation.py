"""Action server answers are validated with a validator built once (rasa_addons/action_validation.py)."""
from __future__ import annotations

import json
import subprocess

from kefu.config.settings import PROJECT_ROOT
from kefu.ops.model import RASA_BIN, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "rasa_addons" / "check_action_validation.py"


def test_the_same_verdicts_as_rasa_in_a_fraction_of_the_time() -> None:
    result = subprocess.run([str(RASA_BIN.parent / "python"), str(SCRIPT)], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    stock, installed = report["stock"], report["installed"]
    assert stock["good"] == installed["good"] == "valid"
    # a malformed answer is still refused, with Rasa's own message
    assert installed["bad"].startswith("invalid") and installed["bad"] == stock["bad"]
    # not a timing assertion on a shared machine: a tenth is the smallest gain that is not noise
    assert installed["ms"] < stock["ms"] / 10, report
    print(f"\naction answer validation: {stock['ms']:.2f} ms -> {installed['ms']:.3f} ms")
