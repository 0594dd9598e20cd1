#!/usr/bin/env bash
# The Docker image's size: build it, then print the total and each layer (the README's "Deploy" quotes it).
#   bench/image_size.sh [TAG]      (needs a running Docker daemon; DOCKER_HOST is honoured)
#   BUILD_FLAGS="--network host" bench/image_size.sh   (extra `docker build` flags, e.g. a daemon without NAT)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-syndicate:local}
# shellcheck disable=SC2086
docker build ${BUILD_FLAGS:-} -q -t "$tag" . >/dev/null
size=$(docker image inspect --format '{{.Size}}' "$tag")
echo "$tag: $((size / 1000000)) MB"
docker history --format '{{.Size}}\t{{.CreatedBy}}' "$tag" | cut -c1-100 | grep -v '^0B'
