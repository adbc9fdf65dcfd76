#!/usr/bin/env bash
# The container path for real: a private dockerd, a debian:bookworm-slim base
# bootstrapped from Debian's archive (no registry is reachable here), the heed
# image built from deploy/Dockerfile, run, health-checked through the published
# port, asked for a translation, scraped, stopped with SIGTERM (clean exit
# within the grace period); then the compose stack with an override that swaps
# the registry-only images for ones built from Debian packages, showing
# Prometheus scraping heed in a container. Grafana has no Debian package: its
# dashboard is checked statically by tests/deploy/deploy_test.py.
#
# Not part of scripts/test.sh (it takes about ten minutes and needs root);
# run it before every change to deploy/. HEED_DOCKER_ROOT (default
# /tmp/heed-docker) holds the engine's data between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${HEED_DOCKER_ROOT:-/tmp/heed-docker}
SOCK=unix://$ROOT/docker.sock
export DOCKER_HOST=$SOCK
mkdir -p "$ROOT"

missing=()
for tool in dockerd docker debootstrap docker-compose curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap docker-compose curl >/dev/null
fi

dockerd --data-root="$ROOT/data" --exec-root="$ROOT/exec" --pidfile="$ROOT/dockerd.pid" \
  -H "$SOCK" --iptables=false --ip6tables=false --bridge=none >"$ROOT/dockerd.log" 2>&1 &
DOCKERD=$!
cleanup() {
  docker rm -f heed-test >/dev/null 2>&1 || true
  docker-compose -p heedtest -f "$ROOT/compose.test.yml" down >/dev/null 2>&1 || true
  kill "$DOCKERD" 2>/dev/null || true
  wait "$DOCKERD" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done

if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  echo "bootstrapping debian:bookworm-slim"
  rm -rf "$ROOT/rootfs"
  debootstrap --variant=minbase bookworm "$ROOT/rootfs" http://deb.debian.org/debian >"$ROOT/debootstrap.log"
  tar -C "$ROOT/rootfs" -c . | docker import - debian:bookworm-slim >/dev/null
fi

echo "building heed:latest"
docker build --network=host -f deploy/Dockerfile -t heed:latest . >"$ROOT/build.log"

echo "running the image"
docker run -d --name heed-test --network=host heed:latest \
  --grpc_address=127.0.0.1:50061 --metrics_address=127.0.0.1:9474 >/dev/null
for _ in $(seq 300); do
  build/client/heed --address=127.0.0.1:50061 --deadline=1s health >/dev/null 2>&1 && break
  sleep 0.2
done
test "$(build/client/heed --address=127.0.0.1:50061 health)" = SERVING
build/client/heed --address=127.0.0.1:50061 models
if build/client/heed --address=127.0.0.1:50061 models | grep -q TASK_TRANSLATION; then
  build/client/heed --address=127.0.0.1:50061 translate "A dog runs." >/dev/null
fi
curl -fs 127.0.0.1:9474/metrics | grep -q heed_build_info
start=$(date +%s)
docker stop --time=30 heed-test >/dev/null
code=$(docker inspect heed-test --format '{{.State.ExitCode}}')
test "$code" = 0
echo "image: health, metrics and a clean SIGTERM exit in $(( $(date +%s) - start )) s"

echo "compose stack with Debian-built Prometheus"
mkdir -p "$ROOT/prometheus-image"
cat >"$ROOT/prometheus-image/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
ENTRYPOINT ["/usr/bin/prometheus"]
DOCKERFILE
docker build --network=host -t heed-test-prometheus "$ROOT/prometheus-image" >"$ROOT/prometheus-build.log"
# The engine here has no bridge network (no iptables), so the test stack uses
# host networking: derived from docker-compose.yml without its port mappings,
# with the Debian-built Prometheus and without Grafana (registry-only).
/usr/bin/python3 - "$PWD" "$ROOT" <<'PY'
import sys, yaml
src, root = sys.argv[1], sys.argv[2]
compose = yaml.safe_load(open(f"{src}/docker-compose.yml"))
services = compose["services"]
keep = {"heed": services["heed"], "prometheus": services["prometheus"]}
heed, prom = keep["heed"], keep["prometheus"]
heed["build"]["context"] = src
for service in keep.values():
    service.pop("ports", None)
    service.pop("depends_on", None)
    service["network_mode"] = "host"
heed["command"] = ["--grpc_address=127.0.0.1:50061", "--metrics_address=127.0.0.1:9474",
                   "--models_dir=/opt/heed/models", "--shutdown_grace=20s"]
prom["image"] = "heed-test-prometheus"
prom["volumes"] = [f"{root}/prometheus-test.yml:/etc/prometheus/prometheus.yml:ro",
                   f"{src}/deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro"]
prom["command"] = ["--config.file=/etc/prometheus/prometheus.yml",
                   "--web.listen-address=127.0.0.1:9091"]
compose["services"] = keep
yaml.safe_dump(compose, open(f"{root}/compose.test.yml", "w"))
PY
# Host networking has no compose DNS: the heed job's service discovery becomes
# the one host-network target.
/usr/bin/python3 - "$ROOT" <<'PY'
import sys, yaml
config = yaml.safe_load(open("deploy/prometheus/prometheus.yml"))
for job in config["scrape_configs"]:
    if job["job_name"] == "heed":
        job.pop("dns_sd_configs", None)
        job["static_configs"] = [{"targets": ["127.0.0.1:9474"]}]
yaml.safe_dump(config, open(f"{sys.argv[1]}/prometheus-test.yml", "w"))
PY
docker-compose -p heedtest -f "$ROOT/compose.test.yml" up -d >/dev/null
for _ in $(seq 120); do
  curl -fs "127.0.0.1:9091/api/v1/query?query=heed_build_info" 2>/dev/null | grep -q '"result":\[{' && break
  sleep 1
done
curl -fs "127.0.0.1:9091/api/v1/query?query=heed_build_info" | grep -q '"result":\[{'
echo "compose: Prometheus in a container scrapes heed in a container"
echo "test-containers: ok"
