"""Access control of the serving API: every role against every endpoint, on a real app.

With ``VOICEOPS_AUTH=required`` each endpoint asks for one scope; the matrix below is what a
caller of each role gets (200 or the endpoint's own answer when admitted, 403 when not), and
no credential, a bad one or a revoked one is a 401 before any work is done.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.access.keys import KeyStore
from core.access.roles import ROLES
from serving.api import ThreadedServer, create_app
from serving.client import TurnClient, TurnRefused

#: endpoint -> (method, path, whether the role's answer is the endpoint's own)
ENDPOINTS = {
    "turn": ("post", "/v1/turn"),
    "outcome": ("post", "/v1/outcome"),
    "audio": ("get", "/v1/audio/none.wav"),
    "models": ("get", "/v1/models"),
    "metrics": ("get", "/metrics"),
    "tf_metrics": ("get", "/monitoring/prometheus/metrics"),
}
#: the endpoints each role may call (everything else is 403)
ALLOWED = {
    "service": {"turn", "outcome", "audio"},
    "operator": {"models", "metrics", "tf_metrics"},
    "ml-engineer": {"models", "metrics", "tf_metrics"},
    "auditor": {"models"},
    "analyst": {"metrics", "tf_metrics"},
    "monitoring": {"metrics", "tf_metrics"},
}


@pytest.fixture
def secured(make_state, tmp_path):
    """``(client, keys)``: the API with auth required, and one key per role."""
    state = make_state()
    settings = state.settings.model_copy(update={"auth": "required"})
    store = KeyStore(settings.access_location)
    keys = {role: store.create(f"{role}-key", role)[1] for role in ROLES}
    with TestClient(create_app(settings, state.options, state=state)) as client:
        yield client, keys, store
    store.close()


def _call(client: TestClient, endpoint: str, customer: str, key: str | None):
    method, path = ENDPOINTS[endpoint]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"text": "What's my balance?", "user_id": customer, "session_id": "s"}
    if endpoint == "outcome":
        body = {"user_id": customer, "session_id": "s", "resolved": True}
    if method == "post":
        return client.post(path, json=body, headers=headers)
    return client.get(path, headers=headers)


def test_the_role_endpoint_matrix(secured, customer) -> None:
    assert set(ALLOWED) == set(ROLES)
    client, keys, _ = secured
    for role, key in keys.items():
        for endpoint in ENDPOINTS:
            response = _call(client, endpoint, customer, key)
            if endpoint in ALLOWED[role]:
                expected = 404 if endpoint == "audio" else 200  # admitted: the endpoint answers
                assert response.status_code == expected, (role, endpoint, response.text)
            else:
                assert response.status_code == 403, (role, endpoint, response.text)
                assert f"{role}-key (roles: {role}) lacks the scope" in response.json()["error"]


def test_no_bad_or_revoked_credential_is_a_401_and_probes_stay_open(secured, customer) -> None:
    client, keys, store = secured
    for endpoint in ENDPOINTS:
        response = _call(client, endpoint, customer, None)
        assert response.status_code == 401, endpoint
        assert response.headers["www-authenticate"] == "Bearer"
        assert "missing Authorization" in response.json()["error"]
    assert _call(client, "turn", customer, "vok_abc_def").status_code == 401
    assert _call(client, "turn", customer, keys["service"]).status_code == 200
    store.revoke("service-key")
    response = _call(client, "turn", customer, keys["service"])
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_turn_client_sends_its_key(make_state, customer, monkeypatch) -> None:
    state = make_state()
    settings = state.settings.model_copy(update={"auth": "required"})
    store = KeyStore(settings.access_location)
    _, key = store.create("gateway", "service")
    store.close()
    with ThreadedServer(create_app(settings, state.options, state=state)) as server:
        monkeypatch.setenv("VOICEOPS_API_KEY", key)
        with TurnClient(server.url) as client:
            assert client.turn(customer, "s", text="What's my balance?")["intent"]
        monkeypatch.delenv("VOICEOPS_API_KEY")
        with TurnClient(server.url) as client, pytest.raises(TurnRefused, match="HTTP 401"):
            client.turn(customer, "s", text="What's my balance?")


def test_serve_refuses_to_listen_beyond_loopback_without_auth(monkeypatch, tmp_path) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    monkeypatch.delenv("VOICEOPS_AUTH", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "would expose the API without access control" in result.output


def test_serve_takes_its_options_from_the_environment(monkeypatch, tmp_path) -> None:
    """A container sets VOICEOPS_SERVING_BANK_URL instead of passing --bank-url."""
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    monkeypatch.setenv("VOICEOPS_SERVING_BANK_URL", "http://bank.internal:8790")
    monkeypatch.setenv("VOICEOPS_SERVING_MAX_INFLIGHT", "0")  # refused: the env was read
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code != 0
    assert "no simulated CRM" not in result.output  # the bank from the environment is used
    assert "max-inflight" in result.output or "MAX_INFLIGHT" in result.output
