"""Access control of the network surfaces: roles, API keys, bearer tokens, one gatekeeper."""

from core.access.authn import ANONYMOUS, Forbidden, Gatekeeper, Principal, Unauthorized
from core.access.roles import ROLES, SCOPES

__all__ = ["ANONYMOUS", "ROLES", "SCOPES", "Forbidden", "Gatekeeper", "Principal", "Unauthorized"]
