"""Resolving refs (branch, tag, commit id or prefix, with ``~N`` / ``^N`` / ``@``) to commits."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass

from versioning.lake.errors import InvalidInputError, NotFoundError
from versioning.lake.models import Commit

_MODIFIER_RE = re.compile(r"([~^])(\d*)")


@dataclass(frozen=True)
class Resolved:
    """A ref resolved to a commit; ``branch`` is set when uncommitted changes are visible."""

    commit_id: str
    tree: str
    branch: str | None


def row_to_commit(row: sqlite3.Row | tuple) -> Commit:
    cid, tree, parents, message, committer, created, metadata, _gen = row
    return Commit(
        id=cid,
        parents=tuple(json.loads(parents)),
        message=message,
        committer=committer,
        creation_date=created,
        metadata=json.loads(metadata),
        meta_range_id=tree,
    )


def load_commit_row(conn: sqlite3.Connection, commit_id: str) -> tuple:
    row = conn.execute("SELECT * FROM commits WHERE id = ?", (commit_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"commit {commit_id} not found")
    return row


def resolve(conn: sqlite3.Connection, repository: str, ref: str) -> Resolved:
    """Resolve ``ref``; a plain branch name keeps its staging area visible."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInputError(f"invalid ref {ref!r}: empty")
    cut = min((i for i in (ref.find("~"), ref.find("^"), ref.find("@")) if i >= 0), default=-1)
    base, modifiers = (ref, "") if cut < 0 else (ref[:cut], ref[cut:])
    committed_only = False
    if modifiers.startswith("@"):
        committed_only, modifiers = True, modifiers[1:]
    branch_row = conn.execute("SELECT head FROM branches WHERE name = ?", (base,)).fetchone()
    if branch_row is not None:
        commit_id, branch = branch_row[0], base
    else:
        branch = None
        tag_row = conn.execute("SELECT commit_id FROM tags WHERE name = ?", (base,)).fetchone()
        commit_id = tag_row[0] if tag_row else _commit_by_prefix(conn, repository, base)
    if modifiers:
        branch = None
        commit_id = _apply_modifiers(conn, repository, ref, commit_id, modifiers)
    elif committed_only:
        branch = None
    tree = load_commit_row(conn, commit_id)[1]
    return Resolved(commit_id, tree, branch)


def _commit_by_prefix(conn: sqlite3.Connection, repository: str, text: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{6,64}", text):
        raise NotFoundError(f"ref {text!r} not found in repository {repository}")
    rows = conn.execute(
        "SELECT id FROM commits WHERE id >= ? AND id < ? LIMIT 2", (text, text + "g")
    ).fetchall()
    if not rows:
        raise NotFoundError(f"ref {text!r} not found in repository {repository}")
    if len(rows) > 1:
        raise InvalidInputError(f"commit prefix {text!r} is ambiguous in {repository}")
    return rows[0][0]


def _apply_modifiers(
    conn: sqlite3.Connection, repository: str, ref: str, commit_id: str, modifiers: str
) -> str:
    pos = 0
    while pos < len(modifiers):
        match = _MODIFIER_RE.match(modifiers, pos)
        if match is None:
            raise InvalidInputError(f"invalid ref {ref!r}: bad modifier {modifiers[pos:]!r}")
        kind, number = match.group(1), int(match.group(2) or 1)
        parents = json.loads(load_commit_row(conn, commit_id)[2])
        if kind == "^":
            if number == 0:
                pass
            elif number > len(parents):
                raise NotFoundError(f"ref {ref!r}: commit {commit_id[:12]} has no parent {number}")
            else:
                commit_id = parents[number - 1]
        else:
            for _ in range(number):
                if not parents:
                    raise NotFoundError(f"ref {ref!r}: history is shorter than {modifiers}")
                commit_id = parents[0]
                parents = json.loads(load_commit_row(conn, commit_id)[2])
        pos = match.end()
    return commit_id
