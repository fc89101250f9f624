# The genesis-failover worker: `genesis-failover -c /etc/genesis-failover/config.toml worker`.
#
#   docker build -t genesis-failover:0.1.0 .
#   docker run --init --rm -v "$PWD/site.toml:/etc/genesis-failover/config.toml:ro" \
#     -e CLOUDFLARE_API_TOKEN genesis-failover:0.1.0
#   docker run --rm -v ...:ro genesis-failover:0.1.0 validate     # any other command
#
# Two stages: the build stage makes a virtualenv with the locked dependencies and the package;
# the runtime stage copies only that virtualenv onto the same slim Python (no compiler, no pip
# cache, no sources beyond the installed package). docs/deploy.md says how it is run. Needs
# BuildKit (COPY --chmod), Docker's default builder since 23.0.

# Same Python minor as CI (3.11) and the same Debian release as the machine the tests run on.
FROM python:3.11.15-slim-bookworm AS build

WORKDIR /src
# The venv lives at the path it will have in the runtime stage: its scripts hard-code it. No pip
# inside (the base image's pip installs into it with --python): nothing in the running image can
# install packages, and it is 26 MB smaller.
RUN python -m venv --without-pip /opt/genesis-failover
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# Dependencies first, from the lock alone: this layer is rebuilt only when the lock changes.
# The lock pins every package of the runtime closure (deploy/requirements.lock says how it is
# made), so the image runs exactly the versions CI tests (scripts/setup.sh installs with it).
# --no-deps and `pip check`: a package missing from the lock fails the build instead of being
# resolved, unpinned, behind its back.
COPY deploy/requirements.lock deploy/requirements.lock
RUN pip --python /opt/genesis-failover/bin/python install --no-cache-dir --no-deps \
        -r deploy/requirements.lock \
    && pip --python /opt/genesis-failover/bin/python check

# The package, without resolving anything again: everything it needs came from the lock.
COPY pyproject.toml README.md ./
COPY genesis genesis
COPY activities activities
COPY workflows workflows
COPY worker worker
# Then bytecode for everything, checked against nothing: the runtime's venv is read-only to its
# non-root user, so a missing or stale .pyc would be compiled again on every import. That
# matters: Temporal's workflow sandbox imports the workflow modules afresh for every workflow
# run (measured: ~5 ms of compile per run without .pyc). unchecked-hash .pyc are used as they
# are, whatever the sources' timestamps after COPY; the image never changes.
RUN pip --python /opt/genesis-failover/bin/python install --no-cache-dir --no-deps . \
    && pip --python /opt/genesis-failover/bin/python check \
    && /opt/genesis-failover/bin/python -m compileall -q -f --invalidation-mode unchecked-hash \
       /opt/genesis-failover/lib

FROM python:3.11.15-slim-bookworm

# A fixed, numeric, unprivileged user: files mounted into the container (the config, TLS keys)
# are granted to this uid on the host, and it matches no host account by accident.
RUN groupadd --system --gid 10001 genesis \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin genesis

COPY --from=build /opt/genesis-failover /opt/genesis-failover
COPY --chmod=0755 deploy/healthcheck.py /usr/local/bin/genesis-failover-healthcheck

# PYTHONUNBUFFERED: log lines reach `docker logs` as they are written. PYTHONDONTWRITEBYTECODE
# is left unset on purpose: the bytecode compiled above must stay in use (see the build stage).
ENV PATH=/opt/genesis-failover/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GENESIS_FAILOVER_CONFIG=/etc/genesis-failover/config.toml

USER 10001:10001
WORKDIR /tmp

# The Prometheus endpoint of the example config ([metrics] prometheus_address = "0.0.0.0:9464").
EXPOSE 9464

# SIGTERM is what the worker drains on (shutdown_grace_seconds); stated so a base image can't
# change it. Run with an init (`docker run --init`, compose `init: true`): the worker handles
# SIGTERM itself, and the init reaps what command hooks leave behind.
STOPSIGNAL SIGTERM

# Healthy once the worker polls its task queue (deploy/healthcheck.py reads the config's
# [metrics] endpoint). start-period covers [temporal] connect_wait_seconds (60 s by default).
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["genesis-failover-healthcheck"]

# Exec form: the console script is the process Docker signals (no shell in between that would
# swallow SIGTERM). CMD is the command, so `docker run IMAGE validate` runs another one.
ENTRYPOINT ["genesis-failover", "-c", "/etc/genesis-failover/config.toml"]
CMD ["worker"]
