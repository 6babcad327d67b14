"""Who is calling, and may they: one check shared by every network surface.

``Authorization: Bearer <credential>`` carries either an API key (``vok_...``, see
:mod:`core.access.keys`) or an identity provider's JWT (:mod:`core.access.tokens`).
:meth:`Gatekeeper.authorize` answers a :class:`Principal`, or raises :class:`Unauthorized`
(401: no or bad credential) or :class:`Forbidden` (403: a good credential without the
scope). With ``VOICEOPS_AUTH=off`` every caller is the anonymous principal: only allowed
on loopback (``voiceops serve`` refuses another interface without auth).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.access.keys import PREFIX, KeyStore, key_id_of
from core.access.roles import allows
from core.access.tokens import TokenError, TokenVerifier
from core.settings import Settings


class Unauthorized(PermissionError):
    """No credential, or one that does not verify (HTTP 401)."""


class Forbidden(PermissionError):
    """A verified caller whose roles lack the scope (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a key's name or a token's subject, and its roles."""

    name: str
    roles: frozenset[str]
    via: str  # "api-key", "token" or "none" (auth off)


ANONYMOUS = Principal("anonymous", frozenset(), "none")


class Gatekeeper:
    """Authenticates bearer credentials and checks scopes."""

    def __init__(self, required: bool, keys: KeyStore | None, tokens: TokenVerifier) -> None:
        self.required = required
        self.keys = keys
        self.tokens = tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> Gatekeeper:
        required = settings.auth == "required"
        tokens = TokenVerifier(
            jwks_url=settings.auth_jwks_url,
            public_key=settings.auth_jwt_public_key,
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience,
            roles_claim=settings.auth_roles_claim,
        )
        keys = KeyStore(settings.access_location) if required else None
        return cls(required, keys, tokens)

    def authorize(self, authorization: str | None, scope: str) -> Principal:
        """The caller behind an ``Authorization`` header, if it holds ``scope``."""
        if not self.required:
            return ANONYMOUS
        principal = self.authenticate(authorization)
        if not allows(principal.roles, scope):
            held = ", ".join(sorted(principal.roles)) or "none"
            raise Forbidden(f"{principal.name} (roles: {held}) lacks the scope {scope!r}")
        return principal

    def authenticate(self, authorization: str | None) -> Principal:
        """The verified caller; :class:`Unauthorized` naming what is wrong."""
        if not authorization:
            raise Unauthorized("missing Authorization: Bearer <API key or token>")
        kind, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if kind.lower() != "bearer" or not credential:
            raise Unauthorized("the Authorization header must be 'Bearer <API key or token>'")
        if credential.startswith(f"{PREFIX}_"):
            return self._key_principal(credential)
        try:
            claims = self.tokens.claims(credential)
        except TokenError as error:
            raise Unauthorized(str(error)) from None
        return Principal(str(claims["sub"]), self.tokens.roles(claims), "token")

    def _key_principal(self, key: str) -> Principal:
        record = self.keys.check(key) if self.keys is not None else None
        if record is None:
            raise Unauthorized(f"unknown API key (id {key_id_of(key) or 'malformed'})")
        if not record.active:
            raise Unauthorized(f"API key {record.name!r} was revoked at {record.revoked_at}")
        return Principal(record.name, frozenset({record.role}), "api-key")

    def close(self) -> None:
        if self.keys is not None:
            self.keys.close()
