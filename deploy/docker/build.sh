#!/usr/bin/env bash
# Builds the VoiceOps images (deploy/docker/Dockerfile, one target each) and smoke-tests them,
# when a container runtime answers AND the base image is already present locally; otherwise
# says why it skips and exits 0 (machines without a registry cannot pull the base).
#   bash deploy/docker/build.sh            # tag voiceops/<target>:<version>
#   TAG=abc123 bash deploy/docker/build.sh # CI: the git sha
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON_IMAGE="${PYTHON_IMAGE:-$(sed -n 's/^ARG PYTHON_IMAGE=//p' deploy/docker/Dockerfile)}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
TAG="${TAG:-$VERSION}"
TARGETS=(training serving dagster hook mlflow)

runtime=""
for candidate in podman docker; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
    runtime="$candidate"
    break
  fi
done
if [ -z "$runtime" ]; then
  echo "deploy-check: SKIP image build: no container runtime answers (podman/docker info failed)"
  exit 0
fi
if ! "$runtime" image inspect "$PYTHON_IMAGE" >/dev/null 2>&1; then
  echo "deploy-check: SKIP image build: base image $PYTHON_IMAGE is not present locally" \
    "($runtime pull $PYTHON_IMAGE first; no registry is reachable from here)"
  exit 0
fi

for target in "${TARGETS[@]}"; do
  echo "deploy-check: building voiceops/$target:$TAG ($runtime)"
  "$runtime" build -f deploy/docker/Dockerfile --target "$target" \
    --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --build-arg "VOICEOPS_VERSION=$VERSION" \
    --build-arg "GIT_SHA=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    -t "voiceops/$target:$TAG" .
done

# Smoke: each image's entry point answers, runs as non-root, and carries no .env.
for target in training serving hook; do
  "$runtime" run --rm "voiceops/$target:$TAG" --help >/dev/null
done
"$runtime" run --rm --entrypoint dagster "voiceops/dagster:$TAG" --version
"$runtime" run --rm "voiceops/mlflow:$TAG" --version
for target in training serving dagster hook mlflow; do
  user="$("$runtime" image inspect -f '{{.Config.User}}' "voiceops/$target:$TAG")"
  case "$user" in ""|root|0|0:0) echo "voiceops/$target runs as root" >&2; exit 1 ;; esac
done
echo "deploy-check: built and smoke-tested ${TARGETS[*]} (tag $TAG)"

# The whole stack, when asked (it pulls the third-party images: needs a registry).
if [ "${DEPLOY_SMOKE_STACK:-0}" = "1" ]; then
  bash deploy/compose/smoke.sh
fi
