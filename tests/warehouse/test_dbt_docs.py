"""``make docs``: ``dbt docs generate`` writes the catalog of the warehouse and the site into
a target path of its own, and ``dbt docs serve`` serves it on the port the Makefile gives."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.warehouse.dbt_runner import ROOT, create_raw_tables, warehouse_target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_docs_generate_writes_the_catalog_and_serve_serves_it(tmp_path: Path) -> None:
    with warehouse_target("duckdb", tmp_path) as target:
        create_raw_tables(target)
        dbt = target.dbt
        assert dbt("seed").success
        assert dbt("run", "--empty").success
        generated = dbt("docs", "generate")
    assert generated.success, generated.exception
    site = dbt.target_path
    assert (site / "index.html").is_file()
    catalog = json.loads((site / "catalog.json").read_text())
    manifest = json.loads((site / "manifest.json").read_text())
    models = {uid for uid in manifest["nodes"] if uid.startswith("model.")}
    assert len(models) == 21 and models <= set(catalog["nodes"])
    columns = catalog["nodes"]["model.voiceops.nlu_examples"]["columns"]
    assert {"text", "intent", "slots", "split"} <= set(columns)
    assert "source.voiceops.raw.crm_customers" in catalog["sources"]
    assert not (ROOT / "dbt_project" / "target" / "catalog.json").exists()

    port = _free_port()
    dbt_bin = str(Path(sys.executable).parent / "dbt")
    command = [dbt_bin, "docs", "serve", "--project-dir", str(ROOT / "dbt_project"),
               "--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(site),
               "--port", str(port), "--host", "127.0.0.1", "--no-browser"]  # fmt: skip
    server = subprocess.Popen(
        command, env=os.environ | dbt.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        page = _get(f"http://127.0.0.1:{port}/")
        assert "<html" in page.lower() and "dbt" in page.lower()
        served = json.loads(_get(f"http://127.0.0.1:{port}/catalog.json"))
        assert served["nodes"].keys() == catalog["nodes"].keys()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # dbt's server can miss SIGTERM under load
            server.kill()
            server.wait(timeout=10)


def test_make_docs_serves_on_its_documented_port() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^DBT_DOCS_PORT \?= 8580$", makefile, re.M)
    recipe = makefile[makefile.index("\ndocs:") :]
    assert "dbt docs generate" in recipe and "dbt docs serve" in recipe
    assert "--port $(DBT_DOCS_PORT) --host 127.0.0.1 --no-browser" in recipe
