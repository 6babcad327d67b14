"""The dbt project's identity: the hash of its manifest, for the code as it is on disk now.

An audit records the manifest hash of the project that ran its checks; a publish, the
pre-merge hook and the registry compare it with the current one, so an audit made before a
test was changed or removed never counts. Parsing costs seconds, so the hash is kept per
*project fingerprint* (a SHA-256 of the project's source files, milliseconds to compute)
in ``$VOICEOPS_HOME/dbt/manifest_hashes.json``; every build also records it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from warehouse.dbt_build import DBT_PROJECT_DIR, dbt_env, manifest_hash

#: What dbt reads to build the manifest (target/, logs/ and packages are outputs).
SOURCE_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
SOURCE_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """SHA-256 over the project's source files (names and bytes, in a fixed order)."""
    files = [project_dir / name for name in SOURCE_FILES if (project_dir / name).is_file()]
    for folder in SOURCE_DIRS:
        if (project_dir / folder).is_dir():
            files += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_file(settings: Settings) -> Path:
    return settings.home / "dbt" / "manifest_hashes.json"


def _read_cache(settings: Settings) -> dict[str, str]:
    try:
        return json.loads(_cache_file(settings).read_text())
    except (OSError, ValueError):
        return {}


def remember_manifest_hash(settings: Settings, fingerprint: str, value: str) -> None:
    """Keep the manifest hash of the project whose files have ``fingerprint``."""
    cache = _read_cache(settings) | {fingerprint: value}
    path = _cache_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
    tmp.replace(path)


def parse_manifest_hash(settings: Settings) -> str:
    """``dbt parse`` of the project as it is now; the hash of the manifest it writes."""
    target = settings.home / "dbt" / "target" / "_parse"
    command = [
        str(Path(sys.executable).parent / "dbt"), "parse",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", settings.dbt_target, "--target-path", str(target),
    ]  # fmt: skip
    done = subprocess.run(
        command, env=os.environ | dbt_env(settings), capture_output=True, text=True, check=False
    )
    manifest = target / "manifest.json"
    if done.returncode != 0 or not manifest.is_file():
        raise RuntimeError(f"dbt parse failed: {(done.stdout or done.stderr)[-1000:]}")
    return manifest_hash(json.loads(manifest.read_text()))


def current_manifest_hash(settings: Settings) -> str:
    """The manifest hash of the dbt project on disk (parsed only when its files changed)."""
    fingerprint = project_fingerprint()
    known = _read_cache(settings).get(fingerprint)
    if known:
        return known
    value = parse_manifest_hash(settings)
    remember_manifest_hash(settings, fingerprint, value)
    return value
