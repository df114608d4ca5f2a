# The ksml container image (docs/deploy.md).
#
#   docker build -t ksml .
#   docker run --rm -v "$PWD/my-app:/ksml" ksml        # runs /ksml/ksml-runner.yaml
#
# Stages: build (Go and the CPython headers) -> python (a virtual environment with the packages
# of deploy/docker/requirements.txt) -> runtime (slim Debian with libpython3.11 and Python's
# standard library). Build and runtime use the same Debian release, so the binary finds the
# libpython it was linked against. Each RUN calls a script of deploy/docker/ or scripts/release,
# which deploy/docker/test runs the same way outside Docker.
#
# The version comes from the build context's git data (.git is part of the context), or from
# --build-arg VERSION=v1.2.3 --build-arg COMMIT=... when building from an exported tree.

ARG GO_VERSION=1.26.8
ARG DEBIAN_RELEASE=bookworm

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
COPY deploy/docker/build-deps.sh /usr/local/bin/
RUN build-deps.sh
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
ARG BUILD_TIME=""
ARG SOURCE_DATE_EPOCH=""
RUN scripts/release binary /out/ksml

FROM debian:${DEBIAN_RELEASE}-slim AS python
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/python-packages.sh deploy/docker/requirements.txt /tmp/ksml/
RUN /tmp/ksml/python-packages.sh /opt/ksml/venv /tmp/ksml/requirements.txt

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
COPY deploy/docker/runtime.sh /tmp/ksml/runtime.sh
RUN /tmp/ksml/runtime.sh && rm -rf /tmp/ksml
COPY --from=python --chown=1024:0 /opt/ksml/venv/lib/python3.11/site-packages/ /opt/ksml/venv/lib/python3.11/site-packages/
COPY --from=build /out/ksml /opt/ksml/ksml
COPY LICENSE /licenses/LICENSE.txt
ENV PATH=/opt/ksml:$PATH
LABEL org.opencontainers.image.title="ksml" \
      org.opencontainers.image.description="KSML pipelines (YAML and Python) with Kafka Streams semantics, as one native binary" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/ksml-dev/ksml"
USER 1024:0
WORKDIR /ksml
VOLUME ["/ksml-store"]
# 8080: application server (/live, /ready, /startup, /state); 9999: Prometheus metrics.
EXPOSE 8080 9999
ENTRYPOINT ["/opt/ksml/ksml"]
CMD ["run", "-c", "/ksml/ksml-runner.yaml"]
