"""deploy/k8s and deploy/helm checked offline: every overlay renders with ``kubectl kustomize``,
every object validates against the Kubernetes schemas (kubernetes-validate, strict) or the
vendored CRD schemas, the probes and the scrape path are the API's routes, every variable is
one the platform reads, the canary weights are the rollout's, and the Dagster chart values
pass the chart's own schema. Nothing here needs a cluster."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices, SecretStr
from pydantic_settings import BaseSettings
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from core.errors import InputError
from core.settings import Settings
from experiments.istio_routes import (
    CANARY,
    SOURCE_ANNOTATION,
    STABLE,
    STAGE_ANNOTATION,
    load_rollout,
    route_weights,
)
from experiments.spec import SPECS_DIR, Rollout, load_specs
from serving.api import create_app
from serving.metrics_names import BOT_MODEL_NAME, REQUEST_COUNT
from serving.options import DEFAULT_PORT, ServingOptions

kubernetes_validate = pytest.importorskip("kubernetes_validate")

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
OVERLAYS = ("staging", "prod")
#: The Kubernetes release the manifests are written for (kubernetes-validate's schemas).
K8S_VERSION = "1.31.0"
#: CRDs and their vendored schemas (deploy/k8s/schemas/README.md says where from).
CRD_SCHEMAS = {
    ("networking.istio.io/v1", "VirtualService"): "networking.istio.io_v1_virtualservice.json",
    ("networking.istio.io/v1", "DestinationRule"): "networking.istio.io_v1_destinationrule.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_v1_servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_v1_prometheusrule.json",
}
#: Variables of other programs a VoiceOps pod may get: the lakeFS SDK (lakectl's names),
#: MLflow's S3 client (boto3), and dbt/Dagster's telemetry switch.
THIRD_PARTY_ENV = {
    "LAKECTL_SERVER_ENDPOINT_URL",
    "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
    "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "DO_NOT_TRACK",
}
VOICEOPS_IMAGES = ("voiceops/serving", "voiceops/hook")


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize` renders the overlays")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str | None = None) -> list[dict]:
    return [
        doc
        for doc in docs
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def one(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def env_names_of(settings_class: type[BaseSettings], field_name: str) -> set[str]:
    """The environment variables one setting is read from (aliases included)."""
    alias = settings_class.model_fields[field_name].validation_alias
    if isinstance(alias, str):
        return {alias}
    if isinstance(alias, AliasChoices):
        return {c for c in alias.choices if isinstance(c, str) and c.isupper()}
    return {f"{settings_class.model_config.get('env_prefix', '')}{field_name}".upper()}


def env_names(settings_class: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    return {
        name
        for field in settings_class.model_fields
        for name in env_names_of(settings_class, field)
    }


def strict(schema: Any) -> Any:
    """``schema`` refusing unknown fields where it lists its properties, as
    ``kubectl apply --validate=strict`` does for a CRD (a typo is an error, not dropped)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def crd_validator(file_name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / file_name).read_text(encoding="utf-8"))
    # every object has these; a CRD's schema leaves them to the API server
    schema["properties"] |= {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
    }
    return jsonschema.Draft7Validator(strict(schema))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_the_platform(overlay: str) -> None:
    docs = render(overlay)
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in docs}
    for expected in [
        ("Deployment", "voiceops-serving-stable"),
        ("Deployment", "voiceops-serving-canary"),
        ("Service", "voiceops-serving"),
        ("HorizontalPodAutoscaler", "voiceops-serving-stable"),
        ("PodDisruptionBudget", "voiceops-serving-stable"),
        ("ServiceMonitor", "voiceops-serving"),
        ("PrometheusRule", "voiceops-serving"),
        ("VirtualService", "voiceops-serving"),
        ("DestinationRule", "voiceops-serving"),
        ("Deployment", "voiceops-hook"),
        ("Service", "voiceops-hook"),
        ("Deployment", "lakefs"),
        ("Deployment", "mlflow"),
        ("ConfigMap", "voiceops-config"),
    ]:
        assert expected in kinds, f"{overlay} renders no {expected}"
    namespaces = {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"}
    assert namespaces == {f"voiceops-{overlay}"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_schema(overlay: str) -> None:
    problems = []
    for doc in render(overlay):
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        crd = CRD_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        if crd is not None:
            errors = [
                f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in crd_validator(crd).iter_errors(doc)
            ]
            problems += [f"{where}: {error}" for error in errors]
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
    assert not problems, "\n".join(problems)


def test_the_crd_check_catches_a_typo() -> None:
    """The vendored schemas are strict enough to matter: a misspelt field is refused."""
    service = copy.deepcopy(one(render("prod"), "VirtualService", "voiceops-serving"))
    service["spec"]["http"][0]["route"][0]["wieght"] = 5
    validator = crd_validator(CRD_SCHEMAS[("networking.istio.io/v1", "VirtualService")])
    assert any("wieght" in error.message for error in validator.iter_errors(service))


def route_of(virtual_service: dict[str, Any]) -> dict[str, int]:
    """Subset -> weight of the VirtualService's one HTTP route."""
    (http,) = virtual_service["spec"]["http"]
    return {r["destination"]["subset"]: r["weight"] for r in http["route"]}


def api_paths() -> dict[str, str]:
    """Route name -> path of the serving API (routes are declared without starting it)."""
    app = create_app(Settings(auth="off"))
    return {route.name: route.path for route in app.routes if hasattr(route, "path")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_scrapes_are_the_apis_own_paths(overlay: str) -> None:
    docs = render(overlay)
    paths = api_paths()
    for track in ("stable", "canary"):
        deployment = one(docs, "Deployment", f"voiceops-serving-{track}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == paths["readyz"]
        assert container["livenessProbe"]["httpGet"]["path"] == paths["healthz"]
        # models load in the background: start-up waits for the process, readiness for them
        assert container["startupProbe"]["httpGet"]["path"] == paths["healthz"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == DEFAULT_PORT
        assert f"--port={DEFAULT_PORT}" in container["args"]
        # without --bank-url `voiceops serve` would start the simulator's bank in the pod
        assert "--bank-url=$(VOICEOPS_SERVING_BANK_URL)" in container["args"]
    (endpoint,) = one(docs, "ServiceMonitor", "voiceops-serving")["spec"]["endpoints"]
    assert endpoint["path"] == paths["metrics"]
    assert endpoint["authorization"]["type"] == "Bearer"  # /metrics asks for metrics:read


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_is_one_the_platform_reads(overlay: str, monkeypatch) -> None:
    known = env_names(Settings) | env_names(ServingOptions) | THIRD_PARTY_ENV
    config = one(render(overlay), "ConfigMap", "voiceops-config")["data"]
    explicit = [
        item["name"]
        for doc in find(render(overlay), "Deployment")
        for container in doc["spec"]["template"]["spec"]["containers"]
        if container["image"].startswith(VOICEOPS_IMAGES)
        for item in container.get("env", [])
    ]
    unknown = sorted((set(config) | secret_keys() | set(explicit)) - known)
    assert not unknown, f"not read by Settings, ServingOptions or a known client: {unknown}"
    # the API listens beyond loopback only with access control
    assert config["VOICEOPS_AUTH"] == "required"
    # and the values parse: a typo in a choice fails here, not in a crash-looping pod
    lines = (K8S / "base" / "secrets.example.env").read_text(encoding="utf-8").splitlines()
    example_secrets = dict(line.split("=", 1) for line in lines if line and line[0] != "#")
    for name, value in (config | example_secrets).items():
        monkeypatch.setenv(name, value)
    settings, options = Settings(), ServingOptions()
    # every store several pods share is a server, never a file in one pod's VOICEOPS_HOME
    assert settings.lake_backend == "lakefs" and settings.dbt_target == "postgres"
    for url in (settings.events_url, settings.access_url, settings.trail_url):
        assert url.startswith("postgresql://")
    assert settings.mlflow_tracking_uri.startswith("http")
    assert settings.qdrant_url.startswith("http")
    assert options.bank_url


def secret_keys() -> set[str]:
    """The keys of the Secret voiceops-secrets (base/secrets.example.env)."""
    lines = (K8S / "base" / "secrets.example.env").read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


#: Secret settings the cluster's pods do not need: Airbyte server mode (no Airbyte server is
#: deployed here) and the key clients send to the API.
SECRETS_NOT_ON_THE_CLUSTER = {
    "airbyte_client_secret",
    "airbyte_lake_secret_access_key",
    "api_key",
}


def test_every_secret_setting_is_in_the_secret_not_the_config_map() -> None:
    """A ``SecretStr`` setting (password, keys) goes to the Secret, never the ConfigMap; a
    new one must be placed (or listed as not needed here) before the test passes."""
    config = one(render("prod"), "ConfigMap", "voiceops-config")["data"]
    secret_fields = {
        name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
    }
    for name in secret_fields:
        exposed = env_names_of(Settings, name) & set(config)
        assert not exposed, f"{exposed} are secrets: put them in voiceops-secrets"
    missing = {
        name
        for name in secret_fields - SECRETS_NOT_ON_THE_CLUSTER
        if not env_names_of(Settings, name) & secret_keys()
    }
    assert not missing, f"secret settings missing from base/secrets.example.env: {missing}"
    for name, value in config.items():
        assert urlsplit(value).password is None, f"{name} holds a password"


def test_the_turns_metric_is_the_apis_counter() -> None:
    """The HPA's per-pod turns/s is what prometheus-adapter derives from the API's counter."""
    hpa = one(render("prod"), "HorizontalPodAutoscaler", "voiceops-serving-stable")
    (pods,) = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    adapter = yaml.safe_load(
        (REPO / "deploy" / "helm" / "prometheus-adapter" / "values.yaml").read_text()
    )
    (rule,) = adapter["rules"]["custom"]
    assert rule["name"]["as"] == pods["metric"]["name"]
    assert f'__name__="{REQUEST_COUNT}"' in rule["seriesQuery"]
    assert f'model_name="{BOT_MODEL_NAME}"' in rule["metricsQuery"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_get_the_config_the_base_defines(overlay: str) -> None:
    docs = render(overlay)
    claims = {doc["metadata"]["name"] for doc in find(docs, "PersistentVolumeClaim")}
    for doc in find(docs, "Deployment"):
        spec = doc["spec"]["template"]["spec"]
        for container in spec["containers"]:
            assert "resources" in container and container["resources"]["requests"]
            assert "readinessProbe" in container, f"{doc['metadata']['name']}: no readiness"
            assert "voiceops/serving-candidate" not in container["image"], "placeholder left"
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    one(docs, "ConfigMap", source["configMapRef"]["name"])
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_and_budgets_hold_their_own_track(overlay: str) -> None:
    docs = render(overlay)
    for track in ("stable", "canary"):
        name = f"voiceops-serving-{track}"
        hpa = one(docs, "HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
        assert metrics["Resource"]["resource"]["name"] == "cpu"
        assert metrics["Pods"]["pods"]["metric"]["name"] == "voiceops_turns_per_second"
        pod_labels = one(docs, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        budget = one(docs, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]
        assert budget.items() <= pod_labels.items()
        assert pod_labels["voiceops.dev/track"] == track
    service = one(docs, "Service", "voiceops-serving")
    for track in ("stable", "canary"):
        labels = one(docs, "Deployment", f"voiceops-serving-{track}")["spec"]["template"]
        assert service["spec"]["selector"].items() <= labels["metadata"]["labels"].items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_istio_subsets_are_the_tracks(overlay: str) -> None:
    docs = render(overlay)
    rule = one(docs, "DestinationRule", "voiceops-serving")
    route = one(docs, "VirtualService", "voiceops-serving")
    subsets = {s["name"]: s["labels"] for s in rule["spec"]["subsets"]}
    assert set(subsets) == {STABLE, CANARY}
    for subset, labels in subsets.items():
        pods = one(docs, "Deployment", f"voiceops-serving-{subset}")["spec"]["template"]
        assert labels.items() <= pods["metadata"]["labels"].items()
    service = one(docs, "Service", "voiceops-serving")
    assert rule["spec"]["host"] == service["metadata"]["name"]
    assert route["spec"]["hosts"] == [service["metadata"]["name"]]
    for destination in route["spec"]["http"][0]["route"]:
        assert destination["destination"]["port"]["number"] == service["spec"]["ports"][0]["port"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_weights_are_rendered_from_the_rollout(overlay: str) -> None:
    """The overlay's weights are what the renderer gives for the source and stage it names,
    and the checked-in patch is byte for byte the renderer's output."""
    from deploy.k8s.render_canary import render as render_patch
    from deploy.k8s.render_canary import resolve

    route = one(render(overlay), "VirtualService", "voiceops-serving")
    annotations = route["metadata"]["annotations"]
    source, stage = annotations[SOURCE_ANNOTATION], int(annotations[STAGE_ANNOTATION])
    weights = route_of(route)
    assert weights == route_weights(load_rollout(resolve(source)), stage)
    assert sum(weights.values()) == 100
    checked_in = (K8S / "overlays" / overlay / "canary-route.yaml").read_text(encoding="utf-8")
    assert checked_in == render_patch(source, stage)


def test_every_stage_of_the_canary_sums_to_100_and_is_its_step() -> None:
    from deploy.k8s.render_canary import DEFAULT_SOURCE
    from deploy.k8s.render_canary import render as render_patch

    rollout = load_rollout(str(REPO / "experiments" / "canary.yaml"))
    template = yaml.safe_load((REPO / "experiments" / "canary.yaml").read_text())
    assert rollout.steps == template["rollout"]["steps"]
    validator = crd_validator(CRD_SCHEMAS[("networking.istio.io/v1", "VirtualService")])
    for stage, step in enumerate(rollout.steps):
        weights = route_weights(rollout, stage)
        assert sum(weights.values()) == 100
        assert weights[CANARY] == round(step * 100)
        # every stage's patch is a valid VirtualService (the last one gives stable 0)
        patch = yaml.safe_load(render_patch(DEFAULT_SOURCE, stage))
        assert route_of(patch) == weights
        assert not list(validator.iter_errors(patch))


def test_spec_rollouts_render_the_routers_weights() -> None:
    """For every reviewed spec with a rollout, Istio's split at each stage is the one the
    in-process router uses (ExperimentSpec.weights_at)."""
    canaries = {key: spec for key, spec in load_specs(SPECS_DIR).items() if spec.rollout}
    assert canaries
    for key, spec in canaries.items():
        for stage in range(len(spec.rollout.steps)):
            weights = route_weights(load_rollout(key), stage)
            router = spec.weights_at(stage)
            assert weights[STABLE] == round(router[spec.control] * 100)
            assert weights[CANARY] == round(router[spec.arm_names[1]] * 100)


def test_a_share_istio_cannot_express_is_refused() -> None:
    rollout = Rollout(steps=[0.004, 0.5, 0.996, 1.0], min_users_per_step=1)
    with pytest.raises(InputError, match="not a whole percent"):
        route_weights(rollout, 0)
    with pytest.raises(InputError, match="not a whole percent"):
        route_weights(rollout, 2)
    with pytest.raises(InputError, match=r"stages 0\.\.3"):
        route_weights(rollout, 4)
    assert route_weights(rollout, 3) == {STABLE: 0, CANARY: 100}


def test_the_render_script_writes_a_patch(tmp_path: Path) -> None:
    from deploy.k8s.render_canary import main

    out = tmp_path / "route.yaml"
    assert main(["--from", "nlg-rollout", "--stage", "0", "--out", str(out)]) == 0
    document = yaml.safe_load(out.read_text())
    weights = route_of(document)
    assert weights == {STABLE: 99, CANARY: 1}
    assert main(["--stage", "7"]) == 1


def test_the_alert_rules_are_the_monitoring_rule_files() -> None:
    """base/prometheus-rules.yaml is the render of monitoring/prometheus/rules/*.yml: a rule
    changed there without `make k8s-rules` fails here."""
    from deploy.k8s.render_rules import RULES
    from deploy.k8s.render_rules import render as render_rules

    checked_in = (K8S / "base" / "prometheus-rules.yaml").read_text(encoding="utf-8")
    assert checked_in == render_rules(), "stale: run `make k8s-rules`"
    rendered = find(render("prod"), "PrometheusRule")
    assert {doc["metadata"]["name"] for doc in rendered} == {
        f"voiceops-{path.stem}" for path in RULES.glob("*.yml")
    }


def test_the_hook_service_is_where_lakefs_calls() -> None:
    from warehouse.hook import DEFAULT_HOOK_URL

    service = one(render("prod"), "Service", "voiceops-hook")
    url = urlsplit(DEFAULT_HOOK_URL)
    assert url.hostname == service["metadata"]["name"]
    assert url.port == service["spec"]["ports"][0]["port"]


# --- Dagster's Helm chart -----------------------------------------------------------------

DAGSTER_VALUES = REPO / "deploy" / "helm" / "dagster" / "values.yaml"


def merged(defaults: Any, override: Any) -> Any:
    """Helm's merge of user values over the chart's: maps deeply, anything else replaced."""
    if isinstance(defaults, dict) and isinstance(override, dict):
        out = dict(defaults)
        for key, value in override.items():
            out[key] = merged(defaults.get(key), value) if key in defaults else value
        return out
    return override


def chart_values() -> dict[str, Any]:
    defaults = yaml.safe_load((SCHEMAS / "dagster" / "values.yaml").read_text())
    return merged(defaults, yaml.safe_load(DAGSTER_VALUES.read_text()))


def chart_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "dagster" / "values.schema.json").read_text())
    # The chart's schema points Kubernetes sub-objects (probes, resources, volumes) at a
    # remote copy of the Kubernetes definitions: kubernetes-validate's copy stands in for it.
    definitions_file = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{K8S_VERSION}-local"
        / "_definitions.json"
    )
    definitions = json.loads(definitions_file.read_text())["$defs"]
    kubernetes = Resource.from_contents(
        {"definitions": definitions, "$defs": definitions}, default_specification=DRAFT202012
    )
    registry = Registry(retrieve=lambda uri: kubernetes)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_dagster_values_pass_the_charts_schema() -> None:
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in chart_validator().iter_errors(chart_values())
    ]
    assert not errors, "\n".join(errors)


def test_the_chart_schema_catches_a_wrong_run_launcher() -> None:
    values = chart_values()
    values["runLauncher"]["type"] = "K8sRunLaunchr"
    assert list(chart_validator().iter_errors(values))


def test_dagster_runs_each_in_a_pod_on_postgres_with_the_code_location_image() -> None:
    values = yaml.safe_load(DAGSTER_VALUES.read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    (location,) = values["dagster-user-deployments"]["deployments"]
    assert location["image"]["repository"] == "voiceops/dagster"
    assert location["includeConfigInLaunchedRuns"]["enabled"] is True
    # the code location the image serves (deploy/docker/Dockerfile, target dagster)
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text()
    assert '"-m", "orchestration.definitions", "-a", "defs"' in dockerfile
    assert location["codeServerArgs"] == ["-m", "orchestration.definitions", "-a", "defs"]
    # the chart's template fails codeServerArgs with replicaCount > 1
    assert location["replicaCount"] == 1
    # runs and the code location read the same settings as the other pods
    base = render("prod")
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for source in launcher["envConfigMaps"] + location["envConfigMaps"]:
        one(base, "ConfigMap", source["name"])
    claims = {doc["metadata"]["name"] for doc in find(base, "PersistentVolumeClaim")}
    for volume in location["volumes"]:
        assert volume["persistentVolumeClaim"]["claimName"] in claims
