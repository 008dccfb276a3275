"""Merge bench/nlu/data_src/<lang>_add*.yml (remove / add per intent) into data/nlu/<lang>.yml (deduplicated).

Run on the data as it was before issue 10 (git show cb6fe5d:data/nlu/zh.yml): each batch is written for a
category of how customers ask, never from ../shared/eval/."""
import sys, yaml
from pathlib import Path
ROOT = Path(__file__).resolve().parents[3]
SRC = Path(__file__).resolve().parent
for lang in ("zh", "en"):
    path = ROOT / "data" / "nlu" / f"{lang}.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    add = {"remove": [], "add": {}}
    for extra in sorted(SRC.glob(f"{lang}_add*.yml")):
        part = yaml.safe_load(extra.read_text(encoding="utf-8"))
        add["remove"] += part.get("remove") or []
        for k, v in (part.get("add") or {}).items():
            add["add"].setdefault(k, []).extend(v or [])
    remove = {str(x).strip().lower() for x in add.get("remove") or []}
    seen = set()
    blocks = {}
    order = []
    for item in doc["nlu"]:
        intent = item["intent"]
        if intent not in blocks:
            blocks[intent] = []; order.append(intent)
        for line in item["examples"].splitlines():
            text = line.strip()[2:].strip() if line.strip().startswith("- ") else line.strip()
            if text and text.lower() not in remove and text.lower() not in seen:
                seen.add(text.lower()); blocks[intent].append(text)
    moved = 0
    for intent, examples in (add.get("add") or {}).items():
        if intent not in blocks:
            blocks[intent] = []; order.append(intent)
        for text in examples or []:
            text = str(text).strip()
            if not text:
                continue
            if text.lower() in seen:
                # already there (maybe under another intent): move it to this one
                for other in blocks.values():
                    other[:] = [t for t in other if t.lower() != text.lower()]
                moved += 1
            seen.add(text.lower()); blocks[intent].append(text)
    out = ['version: "3.1"', "nlu:"]
    for intent in order:
        out.append(f"  - intent: {intent}")
        out.append("    examples: |")
        out.extend(f"      - {t}" for t in blocks[intent])
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(lang, {i: len(blocks[i]) for i in order}, "moved", moved)
