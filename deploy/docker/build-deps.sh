#!/bin/sh
# Build stage of the Dockerfile: what compiling ksml needs besides Go, the
# CPython headers and pkg-config (gcc is in the golang image). Idempotent.
set -eu
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-dev pkg-config
# Image layers drop the package lists; deploy/docker/test, which runs this on
# a machine, keeps them (KSML_KEEP_APT_LISTS=true).
[ "${KSML_KEEP_APT_LISTS:-}" = true ] || rm -rf /var/lib/apt/lists/*
