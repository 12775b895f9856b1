#!/usr/bin/env bash
# The whole suite twice: on SQLite, then on a throwaway PostgreSQL. Non-zero on any failure
# (pytest's exit 5, "no tests collected", included).
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTEST=".venv/bin/python -m pytest"
SEED=${CITYSTAT_TEST_SEED:-$(python3 -c 'import random; print(random.randrange(1, 2**31))')}
export CITYSTAT_TEST_SEED=$SEED
echo "test seed: $SEED (rerun with CITYSTAT_TEST_SEED=$SEED make test)"

status=0
CITYSTAT_TEST_DATABASE=sqlite $PYTEST --hypothesis-seed="$SEED" "$@" || status=1

read -r pgdir pgurl < <(bash infra/dev/throwaway-postgres.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
trap 'bash infra/dev/throwaway-postgres.sh stop "$pgdir"' EXIT
CITYSTAT_TEST_DATABASE=postgresql CITYSTAT_TEST_POSTGRES_URL="$pgurl" \
  $PYTEST --hypothesis-seed="$SEED" "$@" || status=1
exit $status
