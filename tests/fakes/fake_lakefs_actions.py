"""lakeFS Actions for the fake lakeFS server: pre-merge webhooks, run as lakeFS runs them.

Mirrored from lakeFS (``pkg/actions``, ``pkg/catalog/actions_source.go``, docs
https://docs.lakefs.io/guides/hooks/ and .../hooks/webhooks/):

* action files are the objects directly under ``_lakefs_actions/`` of the merge *source*
  commit ("pre-merge: runs on the source branch");
* an action runs when its ``on: pre-merge:`` entry has no ``branches`` or one glob
  (Go ``path.Match``) matches the destination branch;
* a ``webhook`` hook POSTs the event JSON to its literal ``url`` (no ``{{ ENV.X }}`` there),
  adding ``query_params`` and ``headers``, in which ``{{ ENV.X }}`` is read from the server's
  environment: a name outside ``actions.env.prefix`` (default ``LAKEFSACTION_``) evaluates to
  ``""``, a missing one fails the run before any hook is called (lakeFS answers 500);
* a non-2xx answer, a timeout (``timeout``, a Go duration, default 1m) or a transport error
  fails the hook: the rest of that action is skipped and the merge is refused with 412.

Not mirrored (answered 501 or left out): ``lua`` and ``airflow`` hooks, ``if`` expressions,
run logs (``/actions/runs``), events other than pre-merge, and ``commit_id`` in the event
(documented as absent from pre-* events: the merge commit is not made yet).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from versioning.lake.local import LocalLake
from versioning.lake.models import ObjectStat

ACTIONS_PREFIX = "_lakefs_actions/"
#: lakeFS ``actions.env.prefix`` default (pkg/config/defaults.go; the configuration reference).
DEFAULT_ENV_PREFIX = "LAKEFSACTION_"
DEFAULT_TIMEOUT_S = 60.0
PRE_MERGE = "pre-merge"
EVENT_TYPES = {
    "prepare-commit", "pre-commit", "post-commit", "pre-merge", "post-merge",
    "pre-create-tag", "post-create-tag", "pre-delete-tag", "post-delete-tag",
    "pre-create-branch", "post-create-branch", "pre-delete-branch", "post-delete-branch",
    "pre-revert", "post-revert", "pre-cherry-pick", "post-cherry-pick",
}  # fmt: skip
HOOK_TYPES = {"webhook", "lua", "airflow"}
ACTION_NAME = re.compile(r"^\w[\w\-. ]+$")
HOOK_ID = re.compile(r"^[_a-zA-Z][\-_a-zA-Z0-9]{1,255}$")
ENV_REFERENCE = re.compile(r"{{ ?ENV\..*? ?}}")
GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
GO_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}  # fmt: skip


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans (true/false only), as lakeFS's yaml.v3 reads action files: ``on:`` is
    a key, not the boolean True that YAML 1.1 (PyYAML's default) makes of it."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class ActionRunError(Exception):
    """The hooks refused (412) or could not run (500, 501): the merge does not happen."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Action:
    """One parsed action file."""

    name: str
    on: dict[str, Any]
    hooks: list[dict[str, Any]] = field(default_factory=list)

    def runs_on_pre_merge_into(self, branch: str) -> bool:
        if PRE_MERGE not in self.on:
            return False
        branches = (self.on[PRE_MERGE] or {}).get("branches") or []
        return not branches or any(fnmatch.fnmatchcase(branch, glob) for glob in branches)


def parse_action(path: str, data: bytes) -> Action:
    """An action file, validated like lakeFS's ``ParseAction`` (errors name the file)."""
    try:
        raw = yaml.load(data, Loader=_Yaml12Loader) or {}  # a SafeLoader subclass
    except yaml.YAMLError as err:
        raise ValueError(f"parsing file {path}: {' '.join(str(err).split())}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"parsing file {path}: not a YAML mapping")
    name, on, hooks = raw.get("name") or "", raw.get("on") or {}, raw.get("hooks") or []
    problem = _action_problem(name, on, hooks)
    if problem:
        raise ValueError(f"parsing file {path}: {problem}: invalid action")
    return Action(name, on, hooks)


def _action_problem(name: Any, on: Any, hooks: Any) -> str | None:
    if not name:
        return "'name' is required"
    if not isinstance(name, str) or not ACTION_NAME.match(name):
        return "'name' is invalid"
    if not isinstance(on, dict) or not on:
        return "'on' is required"
    unknown = [event for event in on if event not in EVENT_TYPES]
    if unknown:
        return f"event '{unknown[0]}' is not supported"
    if not isinstance(hooks, list):
        return "'hooks' must be a list"
    seen: set[str] = set()
    for i, hook in enumerate(hooks):
        hook_id = hook.get("id") if isinstance(hook, dict) else None
        if not isinstance(hook_id, str) or not HOOK_ID.match(hook_id):
            return f"hook[{i}] missing ID"
        if hook_id in seen:
            return f"hook[{i}] duplicate ID '{hook_id}'"
        seen.add(hook_id)
        if hook.get("type") not in HOOK_TYPES:
            return f"hook[{i}] type '{hook_id}' unknown"
        if hook["type"] == "webhook" and not (hook.get("properties") or {}).get("url"):
            return f"hook[{i}] type 'webhook': key url: missing key in properties"
    return None


def load_actions(lake: LocalLake, repository: str, commit_id: str) -> list[Action]:
    """The action files of a commit (only objects directly under ``_lakefs_actions/``)."""
    actions = []
    for item in lake.list_objects(repository, commit_id, ACTIONS_PREFIX, "/"):
        if isinstance(item, ObjectStat):
            data = lake.read_bytes(repository, commit_id, item.path)
            actions.append(parse_action(item.path, data))
    names = [a.name for a in actions]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"action name '{duplicate}' already loaded: invalid action")
    return actions


def go_duration_seconds(text: str) -> float:
    """Seconds in a Go duration string (``30s``, ``1m30s``, ``1.5h``)."""
    if text in ("0", ""):
        return 0.0
    parts = GO_DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f'webhook request duration: time: invalid duration "{text}"')
    return sum(float(number) * GO_DURATION_UNITS[unit] for number, unit in parts)


def expand_env(value: str, prefix: str, environ: Mapping[str, str]) -> str:
    """``{{ ENV.X }}`` replaced as lakeFS's ``NewSecureString`` does (see the module doc)."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        source, _, name = match.group(0).strip("{} ").partition(".")
        if source != "ENV":
            return match.group(0)
        if prefix and not name.startswith(prefix):
            return ""  # lakeFS: blocked variables evaluate to an empty string
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    expanded = ENV_REFERENCE.sub(replace, value)
    if missing:
        raise ValueError(f"{missing[0]} not found: missing env var")
    return expanded


@dataclass(frozen=True)
class Webhook:
    """A webhook hook ready to call (its ``{{ ENV.X }}`` values already expanded)."""

    action: str
    hook_id: str
    url: str
    timeout_s: float
    query: list[tuple[str, str]]
    headers: dict[str, str]

    def call(self, event: dict[str, Any]) -> str | None:
        """POST the event; None on a 2xx answer, else why the hook failed (lakeFS's words)."""
        parts = urllib.parse.urlsplit(self.url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + self.query
        url = parts._replace(query=urllib.parse.urlencode(sorted(query))).geturl()
        headers = self.headers | {"Content-Type": "application/json"}
        try:
            request = urllib.request.Request(
                url, data=json.dumps(event).encode(), headers=headers, method="POST"
            )
            with urllib.request.urlopen(request, timeout=self.timeout_s or None) as answer:
                answer.read()
                return None
        except urllib.error.HTTPError as err:
            err.read()
            return f"webhook request failed (status code: {err.code})"
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            return f'Post "{self.url}": {reason}'


def webhook(
    action: Action, hook: dict[str, Any], prefix: str, environ: Mapping[str, str]
) -> Webhook:
    """A webhook hook of ``action``, as lakeFS's ``NewWebhook`` builds it."""
    props = hook.get("properties") or {}
    query: list[tuple[str, str]] = []
    for key, values in (props.get("query_params") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            query.append((key, expand_env(str(value), prefix, environ)))
    headers = {
        key: expand_env(str(value), prefix, environ)
        for key, value in (props.get("headers") or {}).items()
    }
    timeout = go_duration_seconds(str(props.get("timeout") or "")) if props.get("timeout") else None
    return Webhook(
        action.name,
        hook["id"],
        str(props["url"]),  # lakeFS: the url never expands {{ ENV.X }}
        DEFAULT_TIMEOUT_S if timeout is None else timeout,
        query,
        headers,
    )


@dataclass(frozen=True)
class PreMerge:
    """What a pre-merge event reports (lakeFS ``HookRecord`` of a merge)."""

    repository: str
    destination: str
    source_commit: str
    merge_source: str
    message: str
    committer: str
    metadata: dict[str, str]

    def event(self, action: str, hook_id: str) -> dict[str, Any]:
        """The JSON lakeFS POSTs (``pkg/actions/event.go``; empty fields are omitted)."""
        event = {
            "event_type": PRE_MERGE,
            "event_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "action_name": action,
            "hook_id": hook_id,
            "repository_id": self.repository,
            "branch_id": self.destination,
            "source_ref": self.source_commit,
            "commit_message": self.message,
            "committer": self.committer,
            "commit_metadata": dict(self.metadata),
            "merge_source": self.merge_source,
        }
        return {key: value for key, value in event.items() if value not in ("", {}, None)}


def run_pre_merge(
    lake: LocalLake,
    merge: PreMerge,
    *,
    env_prefix: str = DEFAULT_ENV_PREFIX,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Run the pre-merge hooks the merge source defines; raise ``ActionRunError`` to refuse."""
    environ = os.environ if environ is None else environ
    run_id = uuid.uuid4().hex[:20]
    aborted = f"update branch {merge.destination}: pre-merge hook aborted, run id '{run_id}'"
    try:
        actions = load_actions(lake, merge.repository, merge.source_commit)
        matched = [a for a in actions if a.runs_on_pre_merge_into(merge.destination)]
        tasks = [(i, a, _hooks(a, env_prefix, environ)) for i, a in enumerate(matched)]
    except ValueError as err:
        raise ActionRunError(500, f"{aborted}: {err}") from None
    failures = []
    for action_index, action, hooks in tasks:
        for hook_index, hook in enumerate(hooks):
            failure = hook.call(merge.event(action.name, hook.hook_id))
            if failure is not None:  # lakeFS skips the rest of this action's hooks
                failures.append(
                    f"hook run id '{action_index}_{hook_index}' failed on action "
                    f"'{action.name}' hook '{hook.hook_id}': action failed: {failure}"
                )
                break
    if failures:
        raise ActionRunError(412, f"{aborted}: {'; '.join(failures)}")


def _hooks(action: Action, prefix: str, environ: Mapping[str, str]) -> list[Webhook]:
    unsupported = [h["id"] for h in action.hooks if h["type"] != "webhook"]
    if unsupported:
        raise ActionRunError(
            501, f"fake lakeFS runs only webhook hooks, not {unsupported[0]!r} of {action.name!r}"
        )
    try:
        return [webhook(action, hook, prefix, environ) for hook in action.hooks]
    except ValueError as err:
        raise ValueError(f"extracting hook properties: {err}") from None
