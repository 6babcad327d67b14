"""Erase a data subject ("right to be forgotten") by crypto-shredding, then prove it.

``erase(settings, customer_id)``:

1. identifies the subject first (id, pseudonym key, name forms, phone, email, passport from
   the CRM record, and their calls), since the CRM record goes with the erasure, and
   searches every layer for them (what is where before anything changes);
2. scans the lake (``governance.erasure_lake``): objects holding values sealed under the
   subject's key, and objects holding them in plain text (landed before sealing existed);
3. destroys the subject's key and puts them on the suppression list
   (``SubjectKeyStore.destroy``): every sealed value of theirs, in every commit, branch,
   tag and refused ``ingest-*`` branch, is noise from then on, and no object is rewritten;
4. deletes their rows, events, source records and log lines (``governance.erasure_layers``);
5. runs the proof: ``governance.subject_search.search`` with the identifiers gathered in 1
   must find nothing in any layer and at any ref;
6. records the erasure: a trail entry (action ``erasure``) and
   ``$VOICEOPS_HOME/governance/erasures/<erasure id>.json``, both with counts only: no
   customer id, name, phone, email, passport or key. A step failing after the key was
   destroyed is recorded too (``failed``: the phase and the error's type), then raised;
   running the erasure again finishes it.

Plain lake data cannot be shredded: it is reported with its paths and refs and the proof
fails (the lake has to be rewritten, or the refs holding it retired and the lake GC run).
``dry_run``: the plan (what each layer would lose), nothing changed, nothing recorded.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from governance import erasure_layers
from governance.erasure_lake import LakeState, scan
from governance.erasure_layers import Deletion
from governance.subject import Subject
from governance.subject_search import NOT_SEARCHABLE, SearchReport

if TYPE_CHECKING:
    from core.trail import Trail

#: What the proof search does not cover, beside the serving audio of ``NOT_SEARCHABLE``.
NOT_SEARCHED = (
    *NOT_SEARCHABLE,
    "MLflow artifacts of models already trained (weights, metrics, lineage): never touched, "
    "so the models keep working; they hold no rows, but a model may have learnt from the "
    "subject's data",
    "vector store points (monitoring/vectors): embeddings and the redacted mart text of a "
    "version's training and production rows, with no customer column: not searched by "
    "identifier; an erased subject's redacted utterances stay there until that version's "
    "index is rebuilt",
)
LEGACY_HELP = (
    "these lake objects hold the subject in plain text (landed before sealing existed, or "
    "named inside another subject's data): no key erases them. Rewrite the lake without "
    "them (a branch with the objects rewritten, then retire the refs that hold the old "
    "ones) or let the retention policy retire those refs, then run the lake GC "
    "(lake_gc_schedule); run the erasure again to prove it."
)


@dataclass
class ErasureReport:
    """What an erasure did (or would do, ``dry_run``) per layer, and its proof."""

    erasure_id: str
    at: str
    dry_run: bool
    customer_id: str
    identifiers: list[str]
    key_destroyed: bool = False
    already_erased: bool = False
    lake: LakeState = field(default_factory=lambda: LakeState(None))
    deletions: list[Deletion] = field(default_factory=list)
    #: the search before anything changed (what is where), and the proof search after
    before: SearchReport | None = None
    proof: SearchReport | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    #: "<phase>: <error type>" when a step after the key destruction failed ("" otherwise)
    failed: str = ""
    not_searched: list[str] = field(default_factory=lambda: list(NOT_SEARCHED))

    @property
    def proof_total(self) -> int | None:
        return None if self.proof is None else self.proof.total()

    @property
    def ok(self) -> bool:
        """Erased and proven: nothing of the subject found anywhere afterwards."""
        return not self.dry_run and self.proof_total == 0

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(("warehouse", "events", "sources", "connector_logs"), 0)
        for item in self.deletions:
            found[item.layer] += item.count
        return found

    def lake_summary(self) -> dict[str, Any]:
        """Sealed and plain lake objects, with the paths and refs of the plain ones."""
        return {
            "key_destroyed": self.key_destroyed,
            "sealed_objects": len(self.lake.sealed),
            "sealed_values": sum(item.sealed for item in self.lake.sealed),
            "plain_objects": [
                {
                    "path": item.path,
                    "refs": sorted(item.refs),
                    "commits": len(item.commits),
                    "identifiers": sorted(item.plain),
                }
                for item in self.lake.plain
            ],
            "objects_rewritten": 0,
        }

    def record(self) -> dict[str, Any]:
        """The erasure record: counts and places, no identifier of the subject."""
        proof = self.proof
        return {
            "erasure_id": self.erasure_id,
            "at": self.at,
            "dry_run": self.dry_run,
            "already_erased": self.already_erased,
            "failed": self.failed,
            "lake": self.lake_summary(),
            "found_before": None
            if self.before is None
            else {"total": self.before.total(), "counts": self.before.counts()},
            "deleted": self.counts(),
            "deleted_from": [
                {"layer": d.layer, "where": _place(d), "count": d.count, "unit": d.unit}
                for d in self.deletions
            ],
            "proof": None
            if proof is None
            else {
                "total": proof.total(),
                "counts": proof.counts(),
                "left": sorted({f"{f.layer}:{f.where}" for f in proof.findings}),
                "scanned": proof.scanned,
            },
            "not_searched": self.not_searched,
            "seconds": self.seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        return self.record() | {"customer_id": self.customer_id, "identifiers": self.identifiers}


def _place(deletion: Deletion) -> str:
    """Where, without a call id: a recording is counted, not named."""
    if deletion.where.endswith(".wav"):
        return deletion.where.rsplit("/", 1)[0] + "/*.wav"
    return deletion.where


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def erasure_id() -> str:
    """A new erasure's id: its UTC time and random hex (nothing derived from the subject)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def records_dir(settings: Settings) -> Path:
    return settings.home / "governance" / "erasures"


class _Clock:
    """Seconds per phase."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds
        self.started = time.perf_counter()
        self.phase = ""

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self.started, 3)
        self.started = now


def erase(settings: Settings, customer_id: str, *, dry_run: bool = False) -> ErasureReport:
    """Erase ``customer_id`` from every layer and prove it (``dry_run``: only the plan)."""
    from core.sealing import SubjectKeyStore
    from core.trail import open_trail
    from governance.subject import identify
    from governance.subject_search import add_source_calls, search

    report = ErasureReport(erasure_id(), _now(), dry_run, customer_id, [])
    clock = _Clock(report.seconds)
    subject = identify(settings, customer_id)
    add_source_calls(settings, subject)
    report.identifiers = subject.kinds()
    trail = None if dry_run else open_trail(settings)  # unreachable: stop before acting
    store = SubjectKeyStore.from_settings(settings)
    key_id = store.key_id_of(customer_id)
    report.already_erased = store.is_erased(customer_id)
    clock.lap("identify")
    report.before = search(settings, customer_id, subject=subject)
    clock.lap("search_before")
    report.lake = scan(settings, subject, key_id)  # adds the calls the lake names
    clock.lap("lake_scan")
    if not dry_run:
        destroyed = store.destroy(customer_id)
        report.key_destroyed = destroyed.key_id is not None
    clock.lap("key_destruction")
    if trail is None:
        _delete(settings, subject, report, clock, dry_run=True)
        return report
    try:
        _delete(settings, subject, report, clock, dry_run=False)
        report.proof = search(settings, customer_id, subject=subject)
        clock.lap("proof")
    except BaseException as error:  # the key is gone already: the record says where it stopped
        report.failed = f"{clock.phase}: {type(error).__name__}"
        raise
    finally:
        _record(settings, trail, report)
    return report


def _delete(
    settings: Settings, subject: Subject, report: ErasureReport, clock: _Clock, *, dry_run: bool
) -> None:
    for layer in ("warehouse", "events", "sources", "connector_logs"):
        clock.phase = layer
        report.deletions += getattr(erasure_layers, layer)(settings, subject, dry_run)
        clock.lap(layer)
    clock.phase = "proof"


def _record(settings: Settings, trail: Trail, report: ErasureReport) -> None:
    """The JSON record and the trail entry (no identifier in either)."""
    from core.trail import record

    directory = records_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report.erasure_id}.json"
    path.write_text(json.dumps(report.record(), indent=2, ensure_ascii=False) + "\n")
    record(trail, "erasure", f"erasure:{report.erasure_id}", _trail_details(report))


def _trail_details(report: ErasureReport) -> dict[str, Any]:
    lake = report.lake_summary()
    return {
        "key_destroyed": report.key_destroyed,
        "already_erased": report.already_erased,
        "found_before_total": report.before.total() if report.before else None,
        "lake_sealed_objects": lake["sealed_objects"],
        "lake_plain_objects": len(lake["plain_objects"]),
        "lake_objects_rewritten": 0,
        "deleted": report.counts(),
        "proof_total": report.proof_total,
        "proof_counts": report.proof.counts() if report.proof else {},
        "failed": report.failed,
    }
