"""The training data holds no evaluation sentence and no near-copy of one (bench/nlu/leaks.py)."""
from __future__ import annotations

import importlib.util

from kefu.config.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("leaks", PROJECT_ROOT / "bench" / "nlu" / "leaks.py")
leaks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(leaks)


def test_the_similarity_catches_a_paraphrase_and_spares_an_unrelated_sentence() -> None:
    near = leaks.grams("where is my parcel DD123, it is late")
    assert len(near & leaks.grams("Where is my parcel DD123? It's late")) / len(
        near | leaks.grams("Where is my parcel DD123? It's late")) >= leaks.THRESHOLD
    assert not near & leaks.grams("发票抬头写错了")


def test_no_training_example_is_close_to_an_evaluation_sentence() -> None:
    assert leaks.eval_sentences(), "../shared/eval is missing: the check needs the evaluation sets beside the clone"
    found = leaks.leaks()
    assert not found, f"{len(found)} near-copies, e.g. {found[0][2]!r} ~ {found[0][3]!r}"
