"""Experiment assignment: users per second through ``experiments.assignment`` against a bare
``fnv32a`` hash loop over the same user ids, measured in the same run.

- **assign**: ``Assigner(spec).assign(user_id)`` for the packaged ``nlu-canary`` spec (hash
  version 2, namespace test, bucket choice, the ``Assignment`` record).
- **bare hash**: ``fnv1a32(str(fnv1a32(salt + user_id))) % 10000`` alone, GrowthBook's own
  ``fnv1a32``: the floor any GrowthBook-compatible assignment pays.

Rounds interleave the two loops; the medians and their ratio are printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from growthbook.core import fnv1a32

from bench._common import Figure, bench_main, format_table, median, ratio, timed, write_results
from experiments.assignment import Assigner
from experiments.spec import load_specs

NAME = "assignment"
USERS, QUICK_USERS = 200_000, 50_000
ROUNDS, QUICK_ROUNDS = 5, 3
#: assignment may cost at most this many bare hash loops (namespace hash + record)
RATIO_TARGET = 4.0


def _assign_all(assigner: Assigner, users: list[str]) -> int:
    assign = assigner.assign
    return sum(assign(user).arm is not None for user in users)


def _hash_all(salt: str, users: list[str]) -> int:
    return sum(fnv1a32(str(fnv1a32(salt + user))) % 10000 for user in users)


def run(quick: bool = False) -> dict[str, Any]:
    count = QUICK_USERS if quick else USERS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    spec = load_specs()["nlu-canary"]
    assigner = Assigner(spec)
    users = [f"caller-{i:07d}" for i in range(count)]
    assign_s, hash_s = [], []
    for _ in range(rounds):
        assign_s.append(timed(lambda: _assign_all(assigner, users))[0])
        hash_s.append(timed(lambda: _hash_all(spec.salt, users))[0])
    assign_rate, hash_rate = count / median(assign_s), count / median(hash_s)
    slower = ratio(median(assign_s), median(hash_s))
    rows = [[f"{count:,} users", round(assign_rate), round(hash_rate), slower]]
    print(format_table(["loop", "assign /s", "bare fnv32a /s", "ratio"], rows))
    figures = [
        Figure(NAME, "assignments per second", round(assign_rate), "/s"),
        Figure(NAME, "bare fnv32a hashes per second", round(hash_rate), "/s"),
        Figure(
            NAME, "assign vs bare hash", slower, "x", f"<= {RATIO_TARGET}", slower <= RATIO_TARGET
        ),
    ]
    data = {"rows": rows, "figures": figures, "users": count, "rounds": rounds}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
