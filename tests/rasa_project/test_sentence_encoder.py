"""The bilingual sentence-encoder featurizer (rasa_addons/sentence_encoder.py), run in Rasa's environment."""
from __future__ import annotations

import json
import subprocess

import pytest

from kefu.config.settings import PROJECT_ROOT
from kefu.ops.model import RASA_BIN, rasa_env

SCRIPT = PROJECT_ROOT / "tests" / "rasa_addons" / "check_sentence_encoder.py"


@pytest.mark.parametrize("encoder", ["use"])
def test_sentence_features_for_chinese_and_english(encoder: str, tmp_path) -> None:
    python = RASA_BIN.parent / "python"
    result = subprocess.run([str(python), str(SCRIPT), encoder, str(tmp_path)], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    dim = report["dim"]
    # one sentence-level vector per message (no sequence features), the encoder's width, finite
    assert all(seq is None and sent == [1, dim] for seq, sent in report["shapes"]), report["shapes"]
    assert report["live_shape"] == [1, dim] and report["finite"]
    assert report["trained_shapes"] == [[1, dim], [1, dim]]
    # empty text: zeros; very long text: cut, still a unit vector
    assert report["empty_norm"] == 0.0
    assert abs(report["long_norm"] - 1.0) < 1e-3
    # zh/en paraphrases are closer than unrelated sentences
    assert min(report["paraphrase"]) > max(report["unrelated"]) + 0.1, report
    # the encoder is loaded once per process
    assert report["loaded_encoders"] == 1 and report["second_load_s"] < 0.5, report
    # a call with more texts than the cache holds embeds each text once (it used to re-embed the evicted ones
    # one by one, and recursed without end with no cache)
    assert report["small_cache_same"], report
    assert report["small_cache_embedded"] == report["small_cache_texts"], report
    print(f"\n{encoder}: load {report['load_s']:.2f} s, paraphrase cos {report['paraphrase']}, "
          f"unrelated {report['unrelated']}")
