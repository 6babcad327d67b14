"""JSONL preflight: split a day's export into parseable lines and rejects, before the connector.

source-file parses a JSONL file as a whole: one truncated line fails the entire day. The
preflight reads the file line by line; every line that is not a JSON object becomes a reject
(``{"line": n, "raw": <original line>, "reason": ...}``) for the caller to quarantine, and the
connector reads a sanitized copy holding only the good lines, byte for byte as they were.
Blank lines carry no record and are dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Preflight:
    """The outcome of checking one JSONL file."""

    source: Path
    sha256: str
    good_lines: list[str] = field(default_factory=list)  # raw lines, newline stripped
    rejects: list[dict] = field(default_factory=list)  # {"line", "raw", "reason"}

    def write_sanitized(self, target: Path) -> Path:
        """Write the good lines to ``target`` (one per line) and return it."""
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="\n") as out:
            for line in self.good_lines:
                out.write(line + "\n")
        return target


def check_line(text: str, number: int) -> str | None:
    """The reason ``text`` (line ``number``) is rejected, or None when it is a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"unparseable JSON at line {number}: {exc}"
    if not isinstance(value, dict):
        return f"not a JSON object at line {number}: got {type(value).__name__}"
    return None


def preflight_jsonl(path: Path) -> Preflight:
    """Read ``path`` line by line (1-based numbers) into good lines and rejects."""
    data = path.read_bytes()
    result = Preflight(source=path, sha256=hashlib.sha256(data).hexdigest())
    for number, raw_bytes in enumerate(data.splitlines(), start=1):
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = raw_bytes.decode("utf-8", errors="replace")
            result.rejects.append(
                {"line": number, "raw": raw, "reason": f"invalid UTF-8 at line {number}: {exc}"}
            )
            continue
        if not raw.strip():
            continue
        reason = check_line(raw, number)
        if reason is None:
            result.good_lines.append(raw)
        else:
            result.rejects.append({"line": number, "raw": raw, "reason": reason})
    return result
