"""The packaged taxonomy is the shared contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.taxonomy import TAXONOMY_FILE, load_taxonomy

SHARED = Path(__file__).resolve().parents[3] / "shared" / "taxonomy.yaml"


def test_packaged_taxonomy_matches_the_shared_contract() -> None:
    if not SHARED.is_file():
        pytest.skip("shared/taxonomy.yaml is not beside this checkout")
    assert TAXONOMY_FILE.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")


def test_taxonomy_loads_intents_and_their_slots() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.languages == ("ru", "en")
    assert "out_of_scope" in taxonomy.intents
    for intent, slots in taxonomy.intents.items():
        assert set(slots) <= set(taxonomy.slots), intent
