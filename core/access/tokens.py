"""OIDC/JWT bearer tokens: signature, expiry, issuer and audience checked with PyJWT.

Only asymmetric algorithms are accepted (RS256/384/512, ES256/384, EdDSA): the API holds the
identity provider's *public* key (from its JWKS URL or a PEM), so it can check tokens but not
mint them, and a token signed with the public key as an HMAC secret is refused. The roles
come from one claim (``roles`` by default; Keycloak and Azure AD can map groups into it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import jwt

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA")


class TokenError(ValueError):
    """The bearer token is not acceptable; the message says why (never the token)."""


@dataclass(frozen=True)
class TokenVerifier:
    """Checks bearer tokens of one identity provider."""

    jwks_url: str = ""
    public_key: str = ""
    issuer: str = ""
    audience: str = ""
    roles_claim: str = "roles"

    @property
    def configured(self) -> bool:
        return bool(self.jwks_url or self.public_key)

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def claims(self, token: str) -> dict:
        """The verified claims of ``token``; :class:`TokenError` when it does not verify."""
        if not self.configured:
            raise TokenError("bearer tokens are not accepted here (no identity provider set)")
        try:
            key = self._key(token)
            return jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer or None,
                audience=self.audience or None,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": bool(self.audience),
                    "verify_iss": bool(self.issuer),
                },
                leeway=30,
            )
        except jwt.PyJWKClientError as error:
            raise TokenError(f"cannot fetch the identity provider's keys: {error}") from None
        except jwt.InvalidTokenError as error:
            raise TokenError(f"invalid bearer token: {error}") from None

    def roles(self, claims: dict) -> frozenset[str]:
        """The roles a token's claims grant (a list, or one space-separated string)."""
        value = claims.get(self.roles_claim, [])
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list):
            return frozenset()
        return frozenset(str(role) for role in value)

    def _key(self, token: str) -> object:
        if self.jwks_url:
            return self._jwks.get_signing_key_from_jwt(token).key
        return self.public_key
