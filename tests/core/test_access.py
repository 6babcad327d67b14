"""Access control: roles, hashed API keys, bearer JWTs, the gatekeeper (SQLite and Postgres)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.access import ANONYMOUS, Forbidden, Gatekeeper, Unauthorized
from core.access.keys import KeyStore
from core.access.roles import LAKE_PRE_MERGE, METRICS_READ, MODELS_READ, ROLES, SCOPES, TURN
from core.access.tokens import TokenVerifier
from core.settings import Settings
from tests.postgres import throwaway_database

ISSUER, AUDIENCE = "https://idp.example/realms/bank", "voiceops"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KeyStore]:
    keys = KeyStore(f"sqlite:///{tmp_path / 'access' / 'keys.sqlite3'}")
    yield keys
    keys.close()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _token(key: rsa.RSAPrivateKey, **claims) -> str:
    body = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def test_every_role_holds_known_scopes_and_only_service_answers_turns() -> None:
    assert set(ROLES) >= {"analyst", "ml-engineer", "operator", "auditor", "service"}
    for scopes in ROLES.values():
        assert scopes <= set(SCOPES)
    assert [role for role, scopes in ROLES.items() if TURN in scopes] == ["service"]
    assert [role for role, scopes in ROLES.items() if LAKE_PRE_MERGE in scopes] == ["service"]


def test_keys_are_kept_hashed_and_checked_by_digest(store: KeyStore, tmp_path: Path) -> None:
    record, key = store.create("gateway", "service")
    assert key.startswith(f"vok_{record.key_id}_") and len(key) > 40
    database = (tmp_path / "access" / "keys.sqlite3").read_bytes()
    assert key.encode() not in database and key.split("_", 2)[2].encode() not in database
    assert store.check(key) == record
    forged = f"vok_{record.key_id}_{'A' * 43}"  # the right id, a guessed secret
    assert store.check(forged) is None
    assert store.check("vok_nothing") is None and store.check("not-a-key") is None


def test_names_roles_and_revocation(store: KeyStore) -> None:
    store.create("gateway", "service")
    with pytest.raises(ValueError, match="already exists"):
        store.create("gateway", "operator")
    with pytest.raises(ValueError, match="unknown role 'root'"):
        store.create("someone", "root")
    revoked = store.revoke("gateway")
    assert revoked.revoked_at is not None and not revoked.active
    with pytest.raises(KeyError, match="no API key named 'ghost'"):
        store.revoke("ghost")


def _gatekeeper(store: KeyStore, **token_settings) -> Gatekeeper:
    return Gatekeeper(True, store, TokenVerifier(**token_settings))


def test_the_gatekeeper_answers_401_for_who_and_403_for_what(store: KeyStore) -> None:
    _, service = store.create("gateway", "service")
    _, analyst = store.create("dana", "analyst")
    gate = _gatekeeper(store)
    assert gate.authorize(f"Bearer {service}", TURN).name == "gateway"
    for header, reason in [
        (None, "missing Authorization"),
        ("Basic dXNlcjpwdw==", "must be 'Bearer"),
        ("Bearer ", "must be 'Bearer"),
        ("Bearer vok_0000_zzz", "unknown API key"),
        ("Bearer eyJhbGciOiJub25lIn0.e30.", "bearer tokens are not accepted"),
    ]:
        with pytest.raises(Unauthorized, match=reason):
            gate.authorize(header, TURN)
    with pytest.raises(Forbidden, match=r"dana \(roles: analyst\) lacks the scope 'turn'"):
        gate.authorize(f"Bearer {analyst}", TURN)
    assert gate.authorize(f"bearer {analyst}", METRICS_READ).roles == {"analyst"}
    store.revoke("gateway")
    with pytest.raises(Unauthorized, match="'gateway' was revoked"):
        gate.authorize(f"Bearer {service}", TURN)


def test_auth_off_admits_the_anonymous_caller_and_opens_no_store(tmp_path: Path) -> None:
    gate = Gatekeeper.from_settings(Settings(home=tmp_path))
    assert gate.authorize(None, TURN) is ANONYMOUS
    assert not (tmp_path / "access").exists()


def test_jwts_are_checked_for_signature_expiry_issuer_audience(store, rsa_key) -> None:
    gate = _gatekeeper(store, public_key=_public_pem(rsa_key), issuer=ISSUER, audience=AUDIENCE)
    principal = gate.authorize(f"Bearer {_token(rsa_key, roles=['ml-engineer'])}", MODELS_READ)
    assert (principal.name, principal.roles, principal.via) == ("alice", {"ml-engineer"}, "token")
    assert gate.authorize(f"Bearer {_token(rsa_key, roles='auditor')}", MODELS_READ)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token, reason in [
        (_token(other, roles=["operator"]), "Signature verification failed"),
        (_token(rsa_key, exp=time.time() - 120), "expired"),
        (_token(rsa_key, aud="another-app"), "(?i)audience"),
        (_token(rsa_key, iss="https://evil.example"), "(?i)issuer"),
    ]:
        with pytest.raises(Unauthorized, match=reason):
            gate.authorize(f"Bearer {token}", MODELS_READ)
    with pytest.raises(Forbidden, match="lacks the scope 'turn'"):
        gate.authorize(f"Bearer {_token(rsa_key, roles=['operator'])}", TURN)


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(store, rsa_key) -> None:
    public = _public_pem(rsa_key)
    gate = _gatekeeper(store, public_key=public)
    body = {"sub": "mallory", "exp": time.time() + 300, "roles": ["service"]}
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(header)}.{b64(json.dumps(body).encode())}"
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized, match="invalid bearer token"):
        gate.authorize(f"Bearer {signing_input}.{b64(signature)}", TURN)


def test_jwks_keys_are_fetched_from_the_identity_provider(store, rsa_key) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    document = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document.encode())

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/certs"
        gate = _gatekeeper(store, jwks_url=url, audience=AUDIENCE)
        principal = gate.authorize(f"Bearer {_token(rsa_key, roles=['service'])}", TURN)
        assert principal.roles == {"service"}
    finally:
        server.shutdown()
        server.server_close()


def test_keys_live_in_postgres_when_configured(tmp_path: Path) -> None:
    with throwaway_database("voiceops_access") as url:
        settings = Settings(home=tmp_path, auth="required", access_url=url)
        gate = Gatekeeper.from_settings(settings)
        try:
            _, key = gate.keys.create("gateway", "service")
            assert gate.authorize(f"Bearer {key}", TURN).via == "api-key"
            other_replica = KeyStore(url)  # what another API replica sees
            other_replica.revoke("gateway")
            other_replica.close()
            with pytest.raises(Unauthorized, match="revoked"):
                gate.authorize(f"Bearer {key}", TURN)
        finally:
            gate.close()
