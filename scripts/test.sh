#!/usr/bin/env bash
# The one command that runs every test: unit, property, store (SQLite and PostgreSQL), API, and
# browser tests in headless Chromium. Installs the browser and fonts with apt when missing.
# Under CI (CI set), a missing PostgreSQL or Chromium fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

# 1. Chromium, its driver and a CJK font for screenshots.
browsers=yes
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if ! { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"; } >&2; then
    if [ -n "${CI:-}" ]; then say "could not install ${missing[*]}"; exit 1; fi
    say "warning: could not install ${missing[*]}; the browser tests are left out of this run"
    browsers=no
  fi
fi

# 2. PostgreSQL: TEST_PG_URL, or the local server (started when it is installed but stopped).
export TEST_PG_URL="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_up() { psql "$TEST_PG_URL" -qAtc 'select 1' >/dev/null 2>&1; }
if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1; then
  say "starting the local PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 || true; done
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if pg_up; then
  # Scratch databases left by an earlier, interrupted run (named cordon_t_PID_…); those of a
  # process still running — a bench, another test run — are left alone.
  for db in $(psql "$TEST_PG_URL" -qAtc "select datname from pg_database where datname like 'cordon\_t\_%'"); do
    pid=$(echo "$db" | cut -d_ -f3)
    if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then continue; fi
    psql "$TEST_PG_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null
  done
elif [ -n "${CI:-}" ]; then
  say "PostgreSQL is not reachable at $TEST_PG_URL"; exit 1
else
  say "warning: PostgreSQL is not reachable at $TEST_PG_URL; store tests run on SQLite only"
fi

# 3. Formatting and lints, as CI holds them (rustfmt.toml gives the width).
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# 4. Every test of the workspace, the browser tests included (they are #[ignore]d so that a bare
# `cargo test` says it left them out). Extra arguments go to cargo, e.g. `scripts/test.sh -p cordon-web`.
say "cargo test"
if [ "$browsers" = yes ]; then
  cargo test --workspace --locked "$@" -- --include-ignored
else
  cargo test --workspace --locked "$@"
  say "warning: the browser tests did not run (no Chromium); CI runs them"
fi

# 5. The API against its own OpenAPI document: Schemathesis (PyPI) on both backends, bounded.
say "schemathesis"
scripts/api-fuzz.sh
