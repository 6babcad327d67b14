"""A call id claimed by two customers (a duplicated id in the export, as the simulator plants):
the recording sealed under one customer's key is theirs, so erasing the other one is proven
without it, and it still opens for its owner until they are erased too."""

from __future__ import annotations

import json

import pytest

from core.sealing import Sealer
from governance.erasure import erase
from governance.subject_search import search
from ingestion.simulator import layout as lay
from tests.governance.test_erasure import CAROL
from tests.governance.test_subject_search import ALICE, DT, _call
from versioning.lake import open_lake

ALICE_WAV = f"raw/recordings/{DT}/C1.wav"  # sealed under Alice's key by _world


@pytest.fixture
def settings(world):
    settings = world
    duplicate = _call("C1", CAROL, "a second record with Alice's call id")
    with lay.calls_jsonl(settings.sources_root, 1).open("a") as exports:
        exports.write(json.dumps(duplicate) + "\n")
    return settings


def _alice_wav_opens(settings) -> bool:
    data = open_lake(settings).read_bytes(settings.lake_repository, "main", ALICE_WAV)
    return Sealer.from_settings(settings).open_blob(data) is not None


def test_the_other_claimant_is_erased_without_the_owner_s_sealed_recording(settings) -> None:
    before = search(settings, CAROL["customer_id"])
    assert "contested_calls" in before.scanned
    assert not [f for f in before.findings if f.where == ALICE_WAV]

    report = erase(settings, CAROL["customer_id"])

    assert report.ok and report.proof.total() == 0, report.proof.findings
    assert _alice_wav_opens(settings)
    alice = search(settings, ALICE["customer_id"])
    assert [f.kind for f in alice.findings if f.where == ALICE_WAV] == ["call_recording"]


def test_the_owner_s_erasure_shreds_the_contested_recording(settings) -> None:
    report = erase(settings, ALICE["customer_id"])

    assert report.ok and report.proof.total() == 0, report.proof.findings
    assert not _alice_wav_opens(settings)
    # Carol's claim on the call does not make the shredded bytes hers
    assert not [f for f in search(settings, CAROL["customer_id"]).findings if f.where == ALICE_WAV]
