"""Point a Kubernetes overlay's images at a release: the edit a promotion pull request makes.

    python .github/scripts/promote_overlay.py deploy/k8s/overlays/staging \\
        --tag 3f2c1e0 --registry ghcr.io/example [--track canary|stable]

The overlay's ``kustomization.yaml`` lists its images (``- name:`` with ``newName:`` and
``newTag:``). ``--track canary`` (the default) moves every image except the stable serving
one, so the release first takes the canary's share of traffic; ``--track stable`` moves the
stable serving image (and the canary's, so both tracks run the release). The file is edited
as text: its comments and order stay, and the pull request's diff is those lines only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

STABLE = "voiceops/serving"
ENTRY = re.compile(r"^(?P<indent>\s*)- name: (?P<name>\S+)\s*$")
FIELD = re.compile(r"^(?P<indent>\s+)(?P<key>newName|newTag): .*$")


def _moves(name: str, track: str) -> bool:
    return name != STABLE if track == "canary" else name in (STABLE, f"{STABLE}-candidate")


def _repository(name: str, new_name: str | None) -> str:
    """``voiceops/<image>`` of an entry (its newName wins; a registry prefix is dropped)."""
    return "/".join((new_name or name).split("/")[-2:])


def promote(text: str, tag: str, registry: str = "", track: str = "canary") -> str:
    """``text`` (a kustomization) with the images of ``track`` at ``registry``/``tag``."""
    if track not in ("canary", "stable"):
        raise ValueError(f"unknown track {track!r} (canary or stable)")
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    index, in_images, moved = 0, False, 0
    while index < len(lines):
        line = lines[index]
        if re.match(r"^images:\s*$", line):
            in_images = True
        elif in_images and re.match(r"^\S", line) and not line.lstrip().startswith("#"):
            in_images = False
        entry = ENTRY.match(line) if in_images else None
        if entry is None:
            out.append(line)
            index += 1
            continue
        body, index = [], index + 1
        while index < len(lines) and FIELD.match(lines[index]):
            body.append(lines[index])
            index += 1
        fields = {m["key"]: m for m in (FIELD.match(b) for b in body)}
        if not _moves(entry["name"], track):
            out += [line, *body]
            continue
        new_name = (
            fields["newName"].group(0).split(": ", 1)[1].strip() if "newName" in fields else None
        )
        repository = _repository(entry["name"], new_name)
        indent = entry["indent"] + "  "
        out.append(line)
        target = f"{registry.rstrip('/')}/{repository}" if registry else repository
        if target != entry["name"] or new_name is not None:
            out.append(f"{indent}newName: {target}\n")
        out.append(f'{indent}newTag: "{tag}"\n')
        moved += 1
    if not moved:
        raise ValueError(f"no image of the {track} track in the overlay")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overlay", type=Path, help="an overlay directory (kustomization.yaml)")
    parser.add_argument("--tag", required=True, help="the release's image tag (the git sha)")
    parser.add_argument("--registry", default="", help="e.g. ghcr.io/OWNER (default: none)")
    parser.add_argument("--track", choices=("canary", "stable"), default="canary")
    args = parser.parse_args(argv)
    path = args.overlay / "kustomization.yaml"
    try:
        path.write_text(promote(path.read_text(), args.tag, args.registry, args.track))
    except (OSError, ValueError) as error:
        print(f"promote: {path}: {error}", file=sys.stderr)
        return 1
    print(f"promote: {path}: {args.track} track -> {args.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
