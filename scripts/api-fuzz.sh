#!/usr/bin/env bash
# The API against its own OpenAPI document, on both backends: Schemathesis (from PyPI) generates
# requests for every operation — valid ones, and ones that break the document on purpose — from
# the document the server serves, with a commander's token, against the demo county. The run
# fails on any server error and on any answer the document does not describe: its status, its
# content type, its headers or its body's schema. Bounded: a few dozen examples an operation and
# a time limit, so that CI stays inside its budget. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '==> %s\n' "$*" >&2; }

ST_VERSION=4.32.5
EXAMPLES=${API_FUZZ_EXAMPLES:-40}
venv=target/schemathesis-$ST_VERSION
if [ ! -x "$venv/bin/st" ]; then
  say "installing schemathesis $ST_VERSION from PyPI"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$ST_VERSION"
fi

cargo build -p cordon --locked -q
bin=target/debug/cordon
work=$(mktemp -d)
pids=()
pg_db=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_db" ]; then psql "$TEST_PG_URL" -qc "drop database if exists \"$pg_db\" with (force)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# fuzz NAME DATABASE_URL: the demo county into the database, a token, the server, then Schemathesis.
fuzz() {
  local name=$1 db=$2 port token
  say "schemathesis on $name: generating the demo county"
  "$bin" demo --database "$db" --no-serve >"$work/demo-$name.log" 2>&1 || { tail -20 "$work/demo-$name.log" >&2; return 1; }
  token=$("$bin" token create demo_commander --label schemathesis --database "$db" 2>/dev/null | grep -o 'cdn_[A-Za-z0-9]*' | head -1)
  [ -n "$token" ] || { say "no token made"; return 1; }
  port=$(free_port)
  "$bin" serve --database "$db" --listen "127.0.0.1:$port" >"$work/serve-$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/openapi.json" >"$work/openapi-$name.json"
  say "schemathesis on $name: $EXAMPLES examples an operation"
  # Run from the scratch directory: Schemathesis keeps a cache of what it found where it runs.
  # Python 3.11's ast.parse can fail inside Hypothesis ("AST constructor recursion depth
  # mismatch", a CPython bug, nothing the server did): such a run, with no failure of a check,
  # runs once more; anything else fails at once.
  local attempt
  for attempt in 1 2; do
    if (cd "$work" && PYTHONPATH="$root/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks timeout 900 "$root/$venv/bin/st" run "$work/openapi-$name.json" \
        --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing,stateful --max-examples "$EXAMPLES" --workers 2 --request-timeout 30 \
        --no-color --output-truncate true) 2>&1 | tee "$work/st-$name.log"; then
      return 0
    fi
    if [ "$attempt" = 1 ] && grep -q 'AST constructor recursion depth mismatch' "$work/st-$name.log" \
        && ! grep -qE '= FAILURES =|Network Error|Connection refused' "$work/st-$name.log"; then
      say "schemathesis on $name: Python's ast.parse failed inside Hypothesis (a CPython 3.11 bug); running once more"
      continue
    fi
    break
  done
  say "schemathesis found failures on $name; the server's log:"
  grep -E 'ERROR|panicked' "$work/serve-$name.log" | tail -20 >&2 || true
  return 1
}

fuzz sqlite "sqlite://$work/fuzz.db"
if psql "${TEST_PG_URL:-}" -qAtc 'select 1' >/dev/null 2>&1; then
  pg_db="cordon_t_$$_schemathesis"
  psql "$TEST_PG_URL" -qc "create database \"$pg_db\"" >/dev/null
  fuzz postgres "${TEST_PG_URL%/*}/$pg_db"
elif [ -n "${CI:-}" ]; then
  say "PostgreSQL is not reachable at ${TEST_PG_URL:-}"; exit 1
else
  say "warning: PostgreSQL is not reachable; schemathesis ran on SQLite only"
fi
