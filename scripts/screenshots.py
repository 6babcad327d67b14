"""Screenshots of the Dagster asset page and the MLflow model page, in headless Chromium.

Run after ``make demo`` (``make screenshots``): starts the Dagster webserver and the MLflow UI
on the demo's home, opens the pages a user looks at and writes PNGs:

* ``dagster_models_nlu.png``: the ``models/nlu`` asset (its latest materialization's
  metadata), and ``dagster_models_nlu_figures.png``: its ``figures`` Markdown (training
  curves and confusion matrix) opened;
* ``mlflow_voicebot_nlu.png``: the registered model ``voicebot-nlu`` (versions, aliases),
  ``mlflow_voicebot_nlu_version.png``: its champion version (signature, lineage tags).

Usage: ``python scripts/screenshots.py [--home .voiceops] [--out DIR]``. Needs Chromium
(``/usr/bin/chromium``, Debian's ``chromium``) and ``playwright`` (its Python driver only;
no browser download).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Chromium on a machine without network: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1500, "height": 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float) -> None:
    """Until ``url`` answers 200 (or raise after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(1)


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """Run ``command`` (its output in ``log``) for the duration of the block."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def tracking_store(env: dict[str, str]) -> tuple[str, str]:
    """The MLflow backend store URI and artifact root VoiceOps uses for this environment."""
    code = (
        "from core.settings import get_settings; from registry.tracking import prepare_store;"
        "s = get_settings(); print(prepare_store(s)); print(s.artifact_root)"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return lines[-2], lines[-1]


def dagster_pages(page, base: str, out: Path) -> list[Path]:
    """The models/nlu asset page (metadata filtered to the figures), then the figures opened."""
    page.goto(f"{base}/assets/models/nlu", wait_until="networkidle")
    page.get_by_text("figures", exact=True).first.wait_for(timeout=60_000)
    skip = page.get_by_role("button", name="Skip")  # the first visit's newsletter dialog
    if skip.count():
        skip.first.click()
    shots = [out / "dagster_models_nlu.png"]
    page.screenshot(path=shots[0])
    row = page.locator("tr", has=page.get_by_text("figures", exact=True)).first
    row.get_by_text("[Show Markdown]").click()
    page.locator("img[src^='data:image/png']").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    shots.append(out / "dagster_models_nlu_figures.png")
    page.screenshot(path=shots[1])
    return shots


def mlflow_pages(page, base: str, out: Path) -> list[Path]:
    """The registered model voicebot-nlu, and its version 1 with the signature expanded."""
    page.goto(f"{base}/#/models/voicebot-nlu", wait_until="load")  # the UI keeps polling
    page.get_by_text("voicebot-nlu").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    shots = [out / "mlflow_voicebot_nlu.png"]
    page.screenshot(path=shots[0], full_page=True)
    page.goto(f"{base}/#/models/voicebot-nlu/versions/1", wait_until="load")
    page.get_by_text("Version 1").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    for section in ("Inputs (", "Outputs ("):
        toggle = page.get_by_text(section)
        if toggle.count():
            toggle.first.click()
    page.wait_for_timeout(500)
    shots.append(out / "mlflow_voicebot_nlu_version.png")
    page.screenshot(path=shots[1], full_page=True)
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".voiceops")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    home = args.home.resolve()
    out = (args.out or home / "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "VOICEOPS_HOME": str(home),
        "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(home / "dagster")),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "DO_NOT_TRACK": "1",
    }
    dagster_port, mlflow_port = free_port(), free_port()
    store, artifacts = tracking_store(env)
    dagster = [str(BIN / "dagster-webserver"), "-w", str(ROOT / "workspace.yaml")]
    dagster += ["-h", "127.0.0.1", "-p", str(dagster_port)]
    mlflow = [str(BIN / "mlflow"), "ui", "--host", "127.0.0.1", "--port", str(mlflow_port)]
    mlflow += ["--backend-store-uri", store, "--default-artifact-root", artifacts]
    shots: list[Path] = []
    with (
        server(dagster, env, out / "dagster-webserver.log"),
        server(mlflow, env, out / "mlflow-ui.log"),
    ):
        wait_for(f"http://127.0.0.1:{dagster_port}/server_info", timeout=180)
        wait_for(f"http://127.0.0.1:{mlflow_port}/health", timeout=180)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            shots += dagster_pages(page, f"http://127.0.0.1:{dagster_port}", out)
            shots += mlflow_pages(page, f"http://127.0.0.1:{mlflow_port}", out)
            browser.close()
    for shot in shots:
        print(f"{shot} ({shot.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
