#!/usr/bin/env bash
# Smoke test of the compose stack on a machine with a container runtime and a registry:
# starts it from .env.example (placeholders: never for real use), waits for each service's
# health endpoint, then removes it with its volumes. Run by `DEPLOY_SMOKE_STACK=1
# deploy/docker/build.sh` (after the images are built) or by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
compose=(docker-compose --env-file .env.example -f deploy/compose/docker-compose.yml -p voiceops-smoke)
cleanup() { "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

# serving needs models and the simulated CRM first (deploy/README.md): not part of the smoke
"${compose[@]}" up -d --build postgres minio minio-init lakefs qdrant mlflow pushgateway \
  prometheus alertmanager grafana dagster-code-location dagster-webserver dagster-daemon \
  voiceops-hook

probe() {  # service, command run inside it; retried for up to 5 minutes
  local service="$1"; shift
  for _ in $(seq 1 60); do
    if "${compose[@]}" exec -T "$service" "$@" >/dev/null 2>&1; then
      echo "smoke: $service answers"
      return 0
    fi
    sleep 5
  done
  echo "smoke: $service did not answer" >&2
  "${compose[@]}" logs --tail 50 "$service" >&2
  return 1
}
py_get() { echo "import urllib.request; urllib.request.urlopen('$1', timeout=4)"; }

probe postgres pg_isready -U voiceops
probe mlflow python -c "$(py_get http://127.0.0.1:5000/health)"
probe voiceops-hook python -c "$(py_get http://127.0.0.1:8766/health)"
probe voiceops-hook python -c "$(py_get http://lakefs:8000/api/v1/healthcheck)"
probe dagster-code-location dagster api grpc-health-check -p 4000
probe dagster-webserver python -c "$(py_get http://127.0.0.1:3000/server_info)"
probe voiceops-hook python -c "$(py_get http://prometheus:9090/-/ready)"
probe voiceops-hook python -c "$(py_get http://alertmanager:9093/-/ready)"
probe voiceops-hook python -c "$(py_get http://grafana:3000/api/health)"
probe voiceops-hook python -c "$(py_get http://qdrant:6333/readyz)"
echo "smoke: the stack is up"
