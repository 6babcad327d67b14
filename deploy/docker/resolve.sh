#!/usr/bin/env bash
# Resolves each image's Python dependencies for linux/amd64 CPython 3.11 as the Dockerfile
# installs them (pyproject's dependencies + the deploy extra under constraints.txt; the mlflow
# target's pins), without building anything: the first step of a build, checked offline from
# Docker. Needs PyPI; says so and exits 0 when it cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV="${UV:-.venv/bin/uv}"
PYTHON="${PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
resolve() {  # name, requirements file, extra uv arguments...
  local name="$1" requirements="$2"
  shift 2
  if ! "$UV" pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
      "$@" "$requirements" -o "$work/$name.lock" 2>"$work/$name.err"; then
    if grep -qiE "failed to fetch|connect|dns|network|timed out" "$work/$name.err"; then
      echo "deploy-check: SKIP dependency resolution of $name: PyPI unreachable"
      return 0
    fi
    cat "$work/$name.err" >&2
    echo "deploy-check: the $name image's dependencies do not resolve" >&2
    return 1
  fi
  echo "deploy-check: the $name image's dependencies resolve ($(grep -c '==' "$work/$name.lock") packages)"
}
"$PYTHON" -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['deploy']))" > "$work/voiceops.txt"
resolve voiceops "$work/voiceops.txt" --constraint constraints.txt
sed -n 's/^RUN pip install \(mlflow==[^\\]*\).*/\1/p' deploy/docker/Dockerfile | tr ' ' '\n' | grep . > "$work/mlflow.txt"
resolve mlflow "$work/mlflow.txt"
