"""A trained STT's rows decoded greedily and over a grid of LM settings: CER per decoder and
group of rows, to tell the decoder's share of a figure from the acoustic model's.

    python -m training.stt.decoder_grid --model DIR [--split test] [--by engine|line|...] \\
        [--set 'lm_weights=[0.4, 0.8, 1.2]'] [--set 'char_bonuses=[1, 2, 3]']

reads the published ``stt_examples`` mart (audio from the lake), fits the config's character
LM on the train split's transcripts as training does, and decodes the split's rows with each
row's language masked in, as served. Prints a markdown table (training/stt/README, "Where the
held-out espeak CER is lost").
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from training.stt.config import STTConfig
from training.stt.data import Prepared, prepare, split_rows
from training.stt.decode import greedy_decode
from training.stt.export import load
from training.stt.groups import ROW_GROUPS
from training.stt.lm import fit_char_lm
from training.stt.tune import decoder_cers, grid_decoders


def row_groups(rows: list[dict[str, Any]], data: Prepared, by: str) -> dict[str, list[int]]:
    """``"<group> <language>"`` (``ROW_GROUPS[by]``) -> indices into ``data`` (its kept rows,
    by ``call_id``)."""
    by_key = {str(row["call_id"]): row for row in rows}
    groups: dict[str, list[int]] = {}
    for index, (key, language) in enumerate(zip(data.keys, data.languages, strict=True)):
        group = ROW_GROUPS[by](by_key[key])
        name = group if group == language else f"{group} {language}"
        groups.setdefault(name, []).append(index)
    return dict(sorted(groups.items()))


def markdown(table: dict[str, dict[str, float]], groups: dict[str, list[int]]) -> str:
    columns = ["all", *groups]
    heads = ["all", *(f"{g} ({len(rows)})" for g, rows in groups.items())]
    lines = ["| decoder | " + " | ".join(heads) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, cells in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{cells[c]:.4f}" for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="an STT SavedModel directory")
    parser.add_argument("--split", default="test")
    parser.add_argument("--by", choices=sorted(ROW_GROUPS), default="engine")
    parser.add_argument("--size", choices=STTConfig.PRESETS, default="demo")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)
    config = STTConfig.preset(args.size, args.set)
    from core.settings import get_settings
    from training.stt.data import load_rows

    splits = split_rows(load_rows(get_settings()))
    if args.split not in splits or "train" not in splits:
        raise SystemExit(f"the published mart has no {args.split!r} or train rows")
    lm = fit_char_lm(prepare(splits["train"]).references, config.lm_order, config.lm_min_count)
    data = prepare(splits[args.split])
    groups = row_groups(splits[args.split], data, args.by)
    decoders = {"greedy": greedy_decode} | {
        name: decode for name, (decode, _) in grid_decoders(lm, config).items()
    }
    print(markdown(decoder_cers(load(args.model), data, groups, decoders), groups))


if __name__ == "__main__":
    main()
