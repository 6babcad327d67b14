"""The rendered manifest: valid for Katib's Experiment CRD and its API types (the schemas
vendored in tuning/schemas/), trials pinned to one lake commit, the training image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tuning.load import load_tuning_spec, parse_tuning_spec
from tuning.render import JOB_FAILURE, JOB_SUCCESS, render

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tuning" / "schemas"
EXAMPLE = ROOT / "tuning" / "specs" / "nlu-random.yaml"
COMMIT = "a" * 64


def _closed(definitions: dict[str, Any]) -> dict[str, Any]:
    """Katib's definitions with ``additionalProperties: false`` on every object that lists
    its properties (Go drops unknown fields: a misspelt one would silently do nothing), and
    the Kubernetes types it references but does not define taken as objects."""
    closed = json.loads(json.dumps(definitions))
    for schema in closed.values():
        if schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
    for name in (
        "v1.ObjectMeta",
        "v1.Container",
        "v1.HTTPGetAction",
        "v1.ListMeta",
        "v1.unstructured.Unstructured",
    ):
        closed.setdefault(name, {"type": "object"})
    closed.setdefault("v1.Time", {"type": "string"})
    return closed


@pytest.fixture(scope="module")
def experiment_validator() -> jsonschema.Validator:
    swagger = json.loads((SCHEMAS / "katib-v1beta1-swagger.json").read_text())
    definitions = _closed(swagger["definitions"])
    schema = {"$ref": "#/definitions/v1beta1.Experiment", "definitions": definitions}
    return jsonschema.Draft4Validator(schema)


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    return yaml.safe_load((SCHEMAS / "experiment-crd.yaml").read_text())


def _check(manifest: dict[str, Any], crd: dict[str, Any], validator) -> None:
    group, version = manifest["apiVersion"].split("/")
    assert group == crd["spec"]["group"]
    served = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    assert served, f"{version} is not served by the CRD"
    assert manifest["kind"] == crd["spec"]["names"]["kind"]
    jsonschema.validate(manifest, served[0]["schema"]["openAPIV3Schema"])
    validator.validate(manifest)


def test_the_rendered_example_validates_against_katibs_schemas(crd, experiment_validator):
    spec = load_tuning_spec(EXAMPLE)
    manifest = render(spec, image="registry.example/voiceops/training:1.2.3", commit=COMMIT)
    _check(manifest, crd, experiment_validator)
    container = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["image"] == "registry.example/voiceops/training:1.2.3"
    assert container["command"][:7] == [
        "voiceops",
        "tune",
        "trial",
        "nlu",
        "--commit",
        COMMIT,
        "--size",
    ]
    assert "learning_rate=${trialParameters.learningRate}" in container["command"]
    assert {"secretRef": {"name": "voiceops-settings"}} in container["envFrom"]
    template = manifest["spec"]["trialTemplate"]
    assert template["successCondition"] == JOB_SUCCESS
    assert template["failureCondition"] == JOB_FAILURE
    assert manifest["spec"]["metricsCollectorSpec"]["collector"]["kind"] == "StdOut"
    # the rendered manifest is itself a spec the local runner accepts, with the same mapping
    again = parse_tuning_spec(manifest, "rendered.yaml")
    assert again.command.tuned == spec.command.tuned
    assert (
        spec.manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        == "voiceops/training:0.1.0"
    )  # the spec itself is not changed


def test_the_schema_check_catches_what_katib_would_refuse(crd, experiment_validator):
    manifest = render(load_tuning_spec(EXAMPLE), commit=COMMIT)
    bad = json.loads(json.dumps(manifest))
    bad["spec"]["parameters"][0]["feasibleSpace"]["min"] = 0.001  # Katib types it a string
    with pytest.raises(jsonschema.ValidationError):
        _check(bad, crd, experiment_validator)
    bad = json.loads(json.dumps(manifest))
    bad["spec"]["maxTrialCont"] = 3
    with pytest.raises(jsonschema.ValidationError):
        _check(bad, crd, experiment_validator)


def test_render_cli_writes_the_manifest(tmp_path, crd, experiment_validator):
    out = tmp_path / "experiment.yaml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voiceops.cli",
            "tune",
            "render",
            str(EXAMPLE),
            "-o",
            str(out),
            "--commit",
            COMMIT,
            "--namespace",
            "kubeflow-user",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load(out.read_text())
    assert manifest["metadata"] == {"name": "nlu-random", "namespace": "kubeflow-user"}
    _check(manifest, crd, experiment_validator)
