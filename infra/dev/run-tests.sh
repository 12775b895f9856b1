#!/usr/bin/env bash
# The whole suite twice: on SQLite and on a throwaway PostgreSQL. Non-zero on any failure (pytest's exit 5,
# "no tests collected", included).
#
# The two passes run side by side: one pass leaves most of a second core idle (browsers, servers and
# subprocesses it waits on), so together they take about two thirds of the time one after the other.
# The PostgreSQL pass's output follows the SQLite pass's. CITYSTAT_TEST_SERIAL=1 runs them one after the other.
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTEST=".venv/bin/python -m pytest"
SEED=${CITYSTAT_TEST_SEED:-$(python3 -c 'import random; print(random.randrange(1, 2**31))')}
export CITYSTAT_TEST_SEED=$SEED
echo "test seed: $SEED (rerun with CITYSTAT_TEST_SEED=$SEED make test)"

read -r pgdir pgurl < <(bash infra/dev/throwaway-postgres.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
work=$(mktemp -d /tmp/cst.XXXXXX)
trap 'bash infra/dev/throwaway-postgres.sh stop "$pgdir"; rm -rf "$work"' EXIT

# Each pass has its own pytest temporary folder, so neither cleans up the other's.
sqlite_pass() {
  CITYSTAT_TEST_DATABASE=sqlite $PYTEST --hypothesis-seed="$SEED" --basetemp="$work/sqlite" --durations=25 "$@"
}
postgres_pass() {
  CITYSTAT_TEST_DATABASE=postgresql CITYSTAT_TEST_POSTGRES_URL="$pgurl" \
    $PYTEST --hypothesis-seed="$SEED" --basetemp="$work/postgresql" --durations=25 "$@"
}

# The browser tests (tests/frontend) run in the SQLite pass only when the whole suite runs: they check the pages,
# and every API a page calls is checked on both engines by its own tests; twice they cost minutes of the budget.
# Named on the command line, they run in both passes.
postgres_args=("$@")
if [ "$#" -eq 0 ]; then
  postgres_args=(--ignore=tests/frontend)
fi

status=0
if [ "${CITYSTAT_TEST_SERIAL:-0}" = 1 ]; then
  sqlite_pass "$@" || status=1
  postgres_pass "${postgres_args[@]}" || status=1
  exit $status
fi

postgres_pass "${postgres_args[@]}" >"$work/postgresql.log" 2>&1 &
postgres_pid=$!
echo "=== SQLite pass (the PostgreSQL pass runs beside it; its output follows) ==="
sqlite_pass "$@" || status=1
wait "$postgres_pid" || status=1
echo "=== PostgreSQL pass ==="
cat "$work/postgresql.log"
exit $status
