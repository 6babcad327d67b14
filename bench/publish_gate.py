"""What the publish gate costs: a gated publish against the plain merge it replaced, and a
publish of a branch whose main moved on (the combination made and published), in one run.

- **plain merge**: ``lake.merge(branch, "main")`` by branch name, no checks (the old publish).
- **gated publish**: ``warehouse.publish.publish`` of the audited commit id: the audit read
  from the log, the merge check (metadata, audit, manifest, ``main`` in the commit's history)
  run before and inside the lake's write lock, ``expected_destination_head``, and the
  post-merge diff proving ``main`` holds exactly the audited content.
- **combined publish**: ``publish_candidate`` merges ``main`` into ``publish-<branch>`` (the
  commit the audit would check), then the gated publish of it.

Each on a fresh repository holding ``base`` objects on ``main`` and a day branch adding
``day`` objects (the embedded lake, fsync off as in the tests); median of the repeats. The
audit itself (load + dbt build) is not included: it is the same work before and after.

    python -m bench.publish_gate [--quick]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, format_table, median, ratio, scratch_dir, timed

NAME = "publish_gate"
REPO = "contact-center"
MANIFEST = "a" * 64
SIZES, QUICK_SIZES = ((2_000, 200), (20_000, 2_000)), ((2_000, 200),)
REPEATS, QUICK_REPEATS = 5, 2


def _world(root: Path, base: int, day: int, *, guarded: bool) -> tuple[Any, Any, str, str]:
    """A repository with ``base`` objects on main and two day branches of ``day`` objects."""
    from versioning.lake.local import LocalLake
    from warehouse.audits import Audit, AuditLog, CheckResult
    from warehouse.guard import audit_merge_check

    audits = AuditLog(root / "audits")
    checks = [audit_merge_check(audits, lambda: MANIFEST)] if guarded else []
    lake = LocalLake(root / "lake", fsync=False, merge_checks=checks)
    lake.create_repository(REPO)
    lake.create_branch(REPO, "seed", "main")
    lake.upload_many(REPO, "seed", ((f"raw/base/{i:06d}.parquet", b"%d" % i) for i in range(base)))
    lake.merge(REPO, lake.commit(REPO, "seed", "base").id, "main")
    heads = []
    for name in ("ingest-1", "ingest-2"):
        lake.create_branch(REPO, name, "main")
        items = ((f"raw/{name}/{i:06d}.parquet", f"{name} {i}".encode()) for i in range(day))
        lake.upload_many(REPO, name, items)
        heads.append(lake.commit(REPO, name, name).id)
    for head in heads:
        audits.save(Audit(REPO, "x", head, "audit_x", [CheckResult("c", "pass")],
                          manifest_hash=MANIFEST))  # fmt: skip
    if guarded:
        lake.add_branch_protection(REPO, "main")
    return lake, audits, heads[0], heads[1]


def _measure(root: Path, base: int, day: int) -> dict[str, float]:
    from warehouse.audits import Audit, CheckResult
    from warehouse.publish import publish, publish_candidate

    lake, _, _, _ = _world(root / "plain", base, day, guarded=False)
    plain, _ = timed(lambda: lake.merge(REPO, "ingest-1", "main", allow_fast_forward=False))

    lake, audits, first, _ = _world(root / "gated", base, day, guarded=True)
    gated, _ = timed(
        lambda: publish(lake, REPO, first, audits, branch="ingest-1", manifest_hash=MANIFEST)
    )

    def combined_publish() -> None:
        candidate = publish_candidate(lake, REPO, "ingest-2")
        checks = [CheckResult("c", "pass")]
        audits.save(
            Audit(REPO, candidate.ref, candidate.commit_id, "a", checks, manifest_hash=MANIFEST)
        )
        publish(lake, REPO, candidate.commit_id, audits, branch="ingest-2", manifest_hash=MANIFEST)

    combined, _ = timed(combined_publish)
    return {"plain": plain, "gated": gated, "combined": combined}


def run(quick: bool = False) -> dict[str, Any]:
    sizes: Sequence[tuple[int, int]] = QUICK_SIZES if quick else SIZES
    repeats = QUICK_REPEATS if quick else REPEATS
    rows, figures = [], []
    for base, day in sizes:
        runs = []
        for attempt in range(repeats):
            with scratch_dir(f"{NAME}-{attempt}", 200 << 20) as root:
                runs.append(_measure(root, base, day))
        plain = median([r["plain"] for r in runs])
        gated = median([r["gated"] for r in runs])
        combined = median([r["combined"] for r in runs])
        rows.append([base, day, plain * 1000, gated * 1000, ratio(gated, plain), combined * 1000])
        figures.append(
            Figure(
                NAME,
                f"gated / plain publish ({base:,} + {day:,} objects)",
                ratio(gated, plain),
                "x",
            )
        )
    print(
        format_table(
            [
                "main objects",
                "day objects",
                "plain merge ms",
                "gated publish ms",
                "gated / plain",
                "combine + publish ms",
            ],
            rows,
        )
    )
    return {"figures": figures, "rows": rows}


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
