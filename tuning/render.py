"""The Katib manifest for a Kubeflow cluster: the spec with the training image, every trial
pinned to one lake commit, Katib's stdout metrics collector and the Job's conditions."""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tuning.load import TuningSpec

#: Katib's own conditions for a batch Job (its defaulter's), written out explicitly.
JOB_SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
JOB_FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
#: ``name=value`` pairs on the trial's stdout, as ``voiceops tune trial`` prints them
#: (Katib's default StdOut format, stated so the contract is visible in the manifest).
METRICS_FORMAT = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
SETTINGS_SECRET = "voiceops-settings"


def default_image() -> str:
    """``voiceops/training:<the package's version>``."""
    try:
        return f"voiceops/training:{version('voiceops')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "voiceops/training:latest"


def trial_argv(spec: TuningSpec, commit: str | None) -> list[str]:
    """The trial command with ``--commit`` set (replaced when the spec names one)."""
    argv = list(spec.command.argv)
    start = next(i for i in range(len(argv) - 2) if argv[i : i + 2] == ["tune", "trial"])
    head, tail = argv[: start + 3], argv[start + 3 :]
    kept: list[str] = []
    while tail:
        item, tail = tail[0], tail[1:]
        if item == "--commit":
            tail = tail[1:]
        elif not item.startswith("--commit="):
            kept.append(item)
    return head + (["--commit", commit] if commit else []) + kept


def render(
    spec: TuningSpec,
    *,
    image: str | None = None,
    commit: str | None = None,
    namespace: str | None = None,
    settings_secret: str = SETTINGS_SECRET,
) -> dict[str, Any]:
    """The manifest to ``kubectl apply``; the spec's own document is not changed."""
    manifest = copy.deepcopy(spec.manifest)
    if namespace:
        manifest["metadata"]["namespace"] = namespace
    body = manifest["spec"]
    body.setdefault(
        "metricsCollectorSpec",
        {
            "collector": {"kind": "StdOut"},
            "source": {"filter": {"metricsFormat": [METRICS_FORMAT]}},
        },
    )
    template = body["trialTemplate"]
    template.setdefault("successCondition", JOB_SUCCESS)
    template.setdefault("failureCondition", JOB_FAILURE)
    job = template["trialSpec"]["spec"]
    job.setdefault("backoffLimit", 0)  # a failed trial is Katib's to count, not to retry
    pod = job["template"]["spec"]
    pod.setdefault("restartPolicy", "Never")
    container = pod["containers"][spec.command.container_index]
    container["image"] = image or default_image()
    container["command"] = trial_argv(spec, commit)
    container.pop("args", None)
    # the warehouse and MLflow settings of the cluster (VOICEOPS_*, DBT_TARGET, ...)
    env_from = container.setdefault("envFrom", [])
    if not any(e.get("secretRef", {}).get("name") == settings_secret for e in env_from):
        env_from.append({"secretRef": {"name": settings_secret}})
    env = container.setdefault("env", [])
    if not any(e.get("name") == "VOICEOPS_PROGRESS" for e in env):
        env.append({"name": "VOICEOPS_PROGRESS", "value": "0"})
    return manifest
