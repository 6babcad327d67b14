"""``voiceops privacy eval`` prints precision and recall per kind and language."""

from __future__ import annotations

from typer.testing import CliRunner

from core.pii import PII_KINDS
from voiceops.cli import app


def test_privacy_eval_prints_a_row_per_kind_and_language() -> None:
    result = CliRunner().invoke(app, ["privacy", "eval", "--n", "120", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "| kind | language | gold | found | precision | recall |" in result.output
    rows = [line.split(" | ") for line in result.output.splitlines() if line.startswith("| ")]
    kinds = {(cells[0].strip("| "), cells[1]) for cells in rows[1:]}
    assert kinds == {(kind, lang) for kind in PII_KINDS for lang in ("ru", "en")}
