"""What ``voiceops privacy find`` costs on a local lake of N commits: each commit adds one
200-row calls part (half of the rows the searched customer's) and 5 recordings, a tag every
10 commits; the search lists every commit's objects and reads each distinct object once.

    python -m bench.subject_search [--commits 10 100 200]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.settings import Settings
from governance.subject_search import search
from ingestion import schemas
from ingestion.simulator.layout import CALL_FIELDS
from versioning.lake import open_lake

ROWS, RECORDINGS = 200, 5


def _part(day: int) -> bytes:
    fixed = {"duration_s": 1.0, "sample_rate": 8000, "transcript": "my number is 07700 900123"}
    rows = [
        dict.fromkeys(CALL_FIELDS, "")
        | fixed
        | {"call_id": f"C{day}-{n}", "customer_id": f"CUST-00100{n % 2}"}
        for n in range(ROWS)
    ]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schemas.CALLS), buffer)
    return buffer.getvalue()


def measure(commits: int) -> tuple[float, str, int]:
    """(seconds, what the lake search covered, total found) on a fresh lake of ``commits``."""
    home = Path(tempfile.mkdtemp(prefix="bench-subject-")) / "home"
    settings = Settings(home=home, lake_fsync=False)
    lake, repository = open_lake(settings), settings.lake_repository
    lake.create_repository(repository)
    for day in range(commits):
        part = f"raw/call_exports/calls/dt={day:04d}/part-0.parquet"
        lake.upload(repository, "main", part, _part(day))
        for n in range(RECORDINGS):
            path = f"raw/recordings/dt={day:04d}/C{day}-{n}.wav"
            lake.upload(repository, "main", path, b"RIFF" * 100)
        lake.commit(repository, "main", f"day {day}")
        if day % 10 == 0:
            lake.create_tag(repository, f"t{day}", "main")
    start = time.perf_counter()
    report = search(settings, "CUST-001000")
    return time.perf_counter() - start, report.scanned["lake"], report.total()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, nargs="+", default=[10, 100, 200])
    args = parser.parse_args()
    print("| commits | seconds | lake scanned | found |")
    print("|---:|---:|---|---:|")
    for commits in args.commits:
        seconds, scanned, found = measure(commits)
        print(f"| {commits} | {seconds:.2f} | {scanned} | {found} |")


if __name__ == "__main__":
    main()
