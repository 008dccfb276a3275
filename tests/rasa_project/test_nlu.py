"""The Rasa project itself: its data validates, and the model understands sentences it never saw.

The held-out evaluation trains on a fixed 80 % split of data/nlu and tests on the other 20 %; the
per-intent report is printed, and the accuracy must stay above a floor set from measurement
(README, "NLU pipeline").
"""
from __future__ import annotations

import json
import subprocess

import pytest

from kefu.config.settings import PROJECT_ROOT
from kefu.ops.model import RASA_BIN, rasa_env, train

# measured 84.0-86.5 % (macro F1 0.85-0.87; the split moves as data is added) with the sentence encoder and
# the issue-10 data (79.1 % before); floor = that minus a margin
HELD_OUT_ACCURACY_FLOOR = 0.80
SPLIT_DIR = PROJECT_ROOT / ".kefu" / "nlu-split"


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RASA_BIN), *args], cwd=PROJECT_ROOT, env=rasa_env(),
                          capture_output=True, text=True, check=False)


def test_rasa_data_validate() -> None:
    result = rasa("data", "validate", "--domain", "domain.yml", "--data", "data", "--config", "config.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


# It trains a whole model (about 5 minutes alone on 2 cores) while the other test worker runs: more than the
# suite's 300 s per test.
@pytest.mark.timeout(1200)
def test_held_out_intent_accuracy(tmp_path) -> None:
    split = rasa("data", "split", "nlu", "-u", "data/nlu", "--training-fraction", "0.8",
                 "--random-seed", "42", "--out", str(SPLIT_DIR))
    assert split.returncode == 0, split.stderr[-3000:]
    model = train(name="kefu-heldout", data=[str(SPLIT_DIR / "training_data.yml"), "data/rules.yml"])
    tested = rasa("test", "nlu", "--model", str(model), "-u", str(SPLIT_DIR / "test_data.yml"),
                  "--out", str(tmp_path), "--no-plot")
    assert tested.returncode == 0, tested.stderr[-3000:]
    report = json.loads((tmp_path / "intent_report.json").read_text())
    print("\nintent            precision recall  f1    support")
    for intent, row in sorted(report.items()):
        if isinstance(row, dict) and "support" in row and not intent.endswith("avg"):
            print(f"{intent:<17} {row['precision']:>9.2f} {row['recall']:>6.2f} {row['f1-score']:>5.2f} "
                  f"{row['support']:>7}")
    print(f"accuracy {report['accuracy']:.3f}  macro F1 {report['macro avg']['f1-score']:.3f}")
    assert report["accuracy"] >= HELD_OUT_ACCURACY_FLOOR
    # Every intent is learnt, not only the big ones.
    weakest = min((row["f1-score"], name) for name, row in report.items()
                  if isinstance(row, dict) and "support" in row and not name.endswith("avg"))
    assert weakest[0] >= 0.5, weakest
