"""Roles and the scopes each one holds (least privilege: a role gets only what its job needs).

A scope names one kind of operation on a network surface. The serving API and the lakeFS
pre-merge hook each ask for one scope per endpoint; a credential (API key or bearer token)
carries one or more roles, and passes when any of them holds the scope.
"""

from __future__ import annotations

#: Answer bot turns, record call outcomes, fetch response audio (``/v1/turn`` and friends).
TURN = "turn"
#: Read the loaded versions, champions and experiment arms (``/v1/models``).
MODELS_READ = "models:read"
#: Scrape the Prometheus metrics (``/metrics``).
METRICS_READ = "metrics:read"
#: Ask the pre-merge hook whether a merge into ``main`` may go on (lakeFS itself).
LAKE_PRE_MERGE = "lake:pre-merge"

SCOPES: tuple[str, ...] = (TURN, MODELS_READ, METRICS_READ, LAKE_PRE_MERGE)

#: Each role's scopes. ``service`` is a machine caller (the telephony gateway, lakeFS);
#: people get read access at most: no person needs to answer turns with a personal key.
ROLES: dict[str, frozenset[str]] = {
    "service": frozenset({TURN, LAKE_PRE_MERGE}),
    "operator": frozenset({MODELS_READ, METRICS_READ}),
    "ml-engineer": frozenset({MODELS_READ, METRICS_READ}),
    "auditor": frozenset({MODELS_READ}),
    "analyst": frozenset({METRICS_READ}),
    "monitoring": frozenset({METRICS_READ}),
}


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`; ``ValueError`` naming the known ones."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def allows(roles: frozenset[str] | set[str], scope: str) -> bool:
    """Whether any of ``roles`` holds ``scope`` (unknown roles hold nothing)."""
    return any(scope in ROLES.get(role, frozenset()) for role in roles)
