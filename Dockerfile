# syntax=docker/dockerfile:1
# dayclose: `dayclose run` (Kafka consumer), `dayclose api` (BackOffice API), `dayclose migrate`.
# Base pinned to an exact Python and Debian release; pin the digest too (…-slim-bookworm@sha256:…)
# where the registry can be resolved, and bump both deliberately.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# A C compiler for the one compiled part (setup.py: the sales events' Avro reader, built by Cython); only in this
# stage, the runtime image gets the built module.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /src
COPY . .
# Exact versions from constraints.txt (the same pins CI tests). tzdata: business dates are
# Europe/Stockholm, and slim images may lack /usr/share/zoneinfo.
RUN pip install --constraint constraints.txt . "tzdata==2026.6"

FROM ${PYTHON_IMAGE} AS runtime
# The source revision the image is built from (docker build --build-arg REVISION=$(git rev-parse HEAD)): shown
# as dayclose_build_info{revision} on /metrics. Build metadata, not a setting.
ARG REVISION=unknown
ENV DAYCLOSE_BUILD_REVISION=${REVISION} \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAYCLOSE_LOG_FORMAT=json
RUN groupadd --system --gid 10001 dayclose \
    && useradd --system --uid 10001 --gid dayclose --no-create-home --shell /usr/sbin/nologin dayclose
COPY --from=build /opt/venv /opt/venv
# Numeric user so Kubernetes can verify runAsNonRoot; the root filesystem may be read-only.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["dayclose"]
CMD ["run"]
