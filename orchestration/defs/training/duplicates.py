"""Asset check of the NLU model: no test row is a near-duplicate of a train row.

The marts split by a hash of the normalized text, so no text is in two splits; but
"Заблокируйте карту 1234" (train) and "Заблокируйте карту 5678" (test) are, for the model,
the same example seen twice, and the test score then overstates what unseen phrasings get.
The check embeds the mart's rows at the model's lake commit with the model just trained (an
in-memory index: nothing is stored) and warns about test rows whose nearest train row is at
least ``DUPLICATE_THRESHOLD`` similar (``monitoring.vectors.neighbours``).
"""

import json
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from core.errors import VoiceOpsError
from monitoring.vectors.neighbours import DUPLICATE_THRESHOLD, NearDuplicate, split_duplicates
from orchestration.defs.training.assets import latest_metadata, model_key
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES

CHECK_NAME = "test_rows_not_near_duplicates"
EXAMPLES = 3


def duplicates_result(
    found: dict[str, list[NearDuplicate]], held_out: dict[str, int], threshold: float
) -> AssetCheckResult:
    """Passed without near-duplicates; counts per language and a few pairs in metadata."""
    counts = {language: len(pairs) for language, pairs in found.items()}
    examples = {
        language: [
            {
                "similarity": pair.similarity,
                "test": pair.held_out["text"],
                "train": pair.train["text"],
            }
            for pair in pairs[:EXAMPLES]
        ]
        for language, pairs in found.items()
    }
    summary = ", ".join(f"{lang} {counts[lang]} of {held_out.get(lang, 0)}" for lang in counts)
    return AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=model_key("nlu"),
        passed=not any(counts.values()),
        severity=AssetCheckSeverity.WARN,
        description=f"test rows with a train row at cosine >= {threshold}: {summary}",
        metadata={
            "threshold": threshold,
            "near_duplicates": MetadataValue.json(counts),
            "test_rows": MetadataValue.json(held_out),
            "examples": MetadataValue.json(json.loads(json.dumps(examples, ensure_ascii=False))),
        },
    )


def not_checked(reason: str) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=model_key("nlu"),
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=f"not checked: {reason}",
    )


@asset_check(
    asset=model_key("nlu"),
    name=CHECK_NAME,
    description=f"nlu: no test row has a train row at cosine >= {DUPLICATE_THRESHOLD} "
    "(utterance embeddings of the trained model).",
)
def nlu_duplicates_check(context, lake: LakeResource) -> AssetCheckResult:
    from training.nlu.export import load

    metadata: dict[str, Any] = latest_metadata(context.instance, model_key("nlu")) or {}
    path, commit = Path(str(metadata.get("model_path", ""))), metadata.get("lake_commit")
    if not path.is_dir() or not commit:
        return not_checked("no trained NLU model with a lake commit")
    try:
        rows = FAMILIES["nlu"].load_rows(lake.settings(), str(commit))
        found, held_out = split_duplicates(load(path), rows, DUPLICATE_THRESHOLD)
    except (VoiceOpsError, LookupError, OSError) as error:
        return not_checked(str(error))
    return duplicates_result(found, held_out, DUPLICATE_THRESHOLD)
