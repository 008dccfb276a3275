"""Near-copies of evaluation sentences in the training data: a training example too close to a test sentence.

The before-stop hook catches exact copies; this catches paraphrases that keep most of the wording (character
3-gram Jaccard similarity after lower-casing and dropping punctuation and spaces). Used by
tests/rasa_project/test_no_eval_leaks.py; ``python bench/nlu/leaks.py`` lists the pairs above the threshold.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval"
THRESHOLD = 0.6
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def grams(text: str) -> frozenset[str]:
    squeezed = _NOISE.sub("", text.lower())
    return frozenset(squeezed[i:i + 3] for i in range(max(0, len(squeezed) - 2)))


def eval_sentences(root: Path = EVAL) -> list[str]:
    sentences: list[str] = []
    for line in (root / "dev-cases.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            sentences += json.loads(line)["turns"]
    for name in ("hint3/curekart_test.csv", "hint3/curekart_train.csv", "bitext/bitext_sample.csv"):
        with (root / name).open(encoding="utf-8") as rows:
            sentences += [row["sentence"] for row in csv.DictReader(rows)]
    for line in (root / "jddc" / "sessions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            sentences += [turn if isinstance(turn, str) else turn.get("text", "") for turn in json.loads(line)["turns"]]
    return [s for s in sentences if len(_NOISE.sub("", s)) >= 8]


def training_examples(data: Path = ROOT / "data" / "nlu") -> list[tuple[str, str]]:
    """(intent, example) for every NLU example, entity annotations removed."""
    found = []
    for path in sorted(data.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line.strip().lstrip("- "))
                if text:
                    found.append((block["intent"], text))
    return found


def leaks(threshold: float = THRESHOLD) -> list[tuple[float, str, str, str]]:
    """(similarity, intent, training example, evaluation sentence), most similar first."""
    tests = [(s, grams(s)) for s in eval_sentences()]
    index: dict[str, list[int]] = defaultdict(list)
    for number, (_, test_grams) in enumerate(tests):
        for gram in test_grams:
            index[gram].append(number)
    found = []
    for intent, example in training_examples():
        mine = grams(example)
        if len(mine) < 4:
            continue
        shared: dict[int, int] = defaultdict(int)
        for gram in mine:
            for number in index.get(gram, ()):
                shared[number] += 1
        for number, common in shared.items():
            similarity = common / len(mine | tests[number][1])
            if similarity >= threshold:
                found.append((similarity, intent, example, tests[number][0]))
    return sorted(found, reverse=True)


if __name__ == "__main__":
    pairs = leaks(float(sys.argv[1]) if len(sys.argv) > 1 else THRESHOLD)
    for similarity, intent, example, test in pairs:
        print(f"{similarity:.2f}\t{intent}\t{example}\t<->\t{test}")
    print(f"{len(pairs)} training examples within {THRESHOLD} of an evaluation sentence", file=sys.stderr)
