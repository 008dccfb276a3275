"""The blended intent classifier (rasa_addons/intent_blend.py), trained, stored and loaded in Rasa's environment."""
from __future__ import annotations

import json
import subprocess

from kefu.config.settings import PROJECT_ROOT
from kefu.ops.model import RASA_BIN, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "rasa_addons" / "check_intent_blend.py"


def test_blend_reads_unseen_phrasings_and_mixes_with_diet(tmp_path) -> None:
    python = RASA_BIN.parent / "python"
    result = subprocess.run([str(python), str(SCRIPT), str(tmp_path)], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # the regression, trained and loaded back from model storage, reads phrasings it never saw, in zh and en
    assert report["regression_alone"] == report["expected"], report
    # blended with a wrong DIET reading at weight 0.3 it still wins, and the ranking is exactly the weighted sum
    assert report["blended"] == report["expected"], report
    assert report["weighted_ok"] and all(abs(total - 1.0) < 1e-3 for total in report["sums"]), report
    # weight 1 leaves DIET's reading; empty text and a model without the trained part leave the intent alone
    assert report["diet_only"] == {"name": "invoice", "confidence": 0.6}
    assert report["empty_intent"] == {"name": "invoice", "confidence": 0.6}
    assert report["untrained_intent"] == {"name": "invoice", "confidence": 0.6}
    # bad configuration is refused with a message naming the problem
    errors = report["config_errors"]
    assert all(errors), errors
    assert "bert" in errors[0] and "diet_weight" in errors[1] and "encoders or char_ngrams" in errors[2]
