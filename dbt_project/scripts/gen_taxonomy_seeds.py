"""Generate the taxonomy seeds of the dbt project from ``core/taxonomy.yaml`` (the contract).

python dbt_project/scripts/gen_taxonomy_seeds.py          # write the seeds
python dbt_project/scripts/gen_taxonomy_seeds.py --check  # exit 1 if they are stale
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
TAXONOMY = PROJECT.parent / "core" / "taxonomy.yaml"
SEEDS = PROJECT / "seeds"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def render(taxonomy_file: Path = TAXONOMY) -> dict[str, str]:
    """File name -> CSV text of each seed."""
    data = yaml.safe_load(taxonomy_file.read_text(encoding="utf-8"))
    intents = data["intents"]
    slots = data["slots"]
    intent_rows = [[name, str(len(spec.get("slots", [])))] for name, spec in intents.items()]
    slot_rows = []
    for name, spec in intents.items():
        for position, slot in enumerate(spec.get("slots", []), start=1):
            slot_spec = slots[slot]
            kind = slot_spec.get("kind") or ("enum" if "values" in slot_spec else "pattern")
            pii = "true" if slot_spec.get("pii") else "false"
            slot_rows.append([name, slot, str(position), kind, pii])
    return {
        "taxonomy_intents.csv": _csv(["intent", "slot_count"], intent_rows),
        "taxonomy_intent_slots.csv": _csv(
            ["intent", "slot", "position", "slot_kind", "is_pii"], slot_rows
        ),
    }


def main(argv: list[str]) -> int:
    stale = []
    for name, text in render().items():
        path = SEEDS / name
        if "--check" in argv:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale seeds: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
