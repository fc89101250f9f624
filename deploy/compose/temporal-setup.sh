#!/bin/sh
# One-shot (compose service temporal-setup, image temporalio/admin-tools), once the server is
# healthy: the worker's namespace, and the five Keyword search attributes that index failovers
# (genesis/failover/temporal/attributes.py; docs/operations.md). Idempotent: an existing namespace is kept
# as it is, and registering an attribute that exists with the same type succeeds. An attribute
# that exists with another type fails the setup, and so the worker never starts against it.
#
# Environment: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (the Temporal CLI's own variables, which
# it reads by itself), TEMPORAL_NAMESPACE_RETENTION (how long closed workflows, i.e. the record
# of past failovers, are kept; default 30d).
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS: the frontend, host:port}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE: the namespace the worker uses}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"

# `retry WHAT COMMAND...`: a server that just started, or a namespace just created, answers
# "not found" for a few seconds (each service refreshes its namespace cache on a timer).
retry() {
  what="$1"
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$ATTEMPTS" ]; then
      echo "temporal-setup: $what still failing after $ATTEMPTS attempts" >&2
      return 1
    fi
    n=$((n + 1))
    sleep 2
  done
}

retry "cluster health" temporal operator cluster health

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-setup: namespace $TEMPORAL_NAMESPACE exists"
else
  retry "namespace create" temporal operator namespace create \
    --namespace "$TEMPORAL_NAMESPACE" --retention "$RETENTION"
fi

register() {
  if out=$(temporal operator search-attribute create \
    --namespace "$TEMPORAL_NAMESPACE" \
    --name FailoverSite --type Keyword \
    --name FailoverDirection --type Keyword \
    --name FailoverTrigger --type Keyword \
    --name FailoverOutcome --type Keyword \
    --name FailoverState --type Keyword 2>&1); then
    printf '%s\n' "$out"
    return 0
  fi
  printf '%s\n' "$out" >&2
  case "$out" in
    # Waiting cannot fix a name taken by another type: stop now, naming it (the CLI's message).
    *"different type"*) echo "temporal-setup: fix the attribute's type by hand" >&2; exit 1 ;;
  esac
  return 1
}
retry "search-attribute create" register

# The worker checks these at start and, finding one missing, runs without indexing until it is
# restarted: finish only once the frontend lists all five.
listed() {
  out=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE") || return 1
  for name in FailoverSite FailoverDirection FailoverTrigger FailoverOutcome FailoverState; do
    printf '%s\n' "$out" | grep -Eq "^[[:space:]]*${name}[[:space:]]+Keyword[[:space:]]*$" || return 1
  done
}
retry "search-attribute list" listed
echo "temporal-setup: namespace $TEMPORAL_NAMESPACE has the five Failover* attributes"
