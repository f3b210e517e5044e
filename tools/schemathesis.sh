#!/usr/bin/env bash
# Runs schemathesis against the local runtime: starts `atende serve` on a fresh data
# directory and a free port, creates an account with a sandbox channel, a team, a contact
# and a session to find, and fuzzes every operation of GET /v1/openapi.json as its admin
# with the checks below, a fixed seed and a fixed number of cases per operation (a timeout
# as a safety net); settings in tools/schemathesis.toml, hooks in tools/schemathesis_hooks.py.
# Exits non-zero on any finding. Installs schemathesis with pip if missing.
#
# Usage: tools/schemathesis.sh [path to the atende binary]   (default: cargo's debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import schemathesis" >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet 'schemathesis==4.32.5'
fi
if [[ $# -ge 1 ]]; then
  bin="$1"
else
  cargo build --quiet --bin atende
  bin="${CARGO_TARGET_DIR:-target}/debug/atende"
fi
data="$(mktemp -d)"
port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# Fuzzing is one account at full speed: the request limits are lifted (429 is declared).
ATENDE_RATE_ACCOUNT_BURST=1000000 ATENDE_RATE_TOKEN_BURST=1000000 \
  ATENDE_ADDR="127.0.0.1:$port" ATENDE_DATA_DIR="$data" ATENDE_LOG=warn "$bin" serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf "$base/health" >/dev/null && break
  sleep 0.1
done
ATENDE_DATA_DIR="$data" ATENDE_ADMIN_PASSWORD='correct horse' \
  "$bin" admin create-account --name Acme --admin-email ana@acme.example >/dev/null
json() { "$PYTHON" -c "import sys,json; print(json.load(sys.stdin)$1)"; }
token="$(curl -sf "$base/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"ana@acme.example","password":"correct horse"}' | json '["token"]')"
auth="authorization: Bearer $token"
channel="$(curl -sf "$base/v1/channels" -H "$auth" -H 'content-type: application/json' \
  -d '{"kind":"sandbox","name":"Sandbox","agents_can_start":true}' | json '["id"]')"
curl -sf "$base/v1/teams" -H "$auth" -H 'content-type: application/json' -d '{"name":"Vendas"}' >/dev/null
ATENDE_DATA_DIR="$data" ATENDE_ADDR="127.0.0.1:$port" \
  "$bin" simulate --channel "$channel" --from +5511987654321 --name Maria "Oi" >/dev/null

tools="$PWD/tools"
cd "$data"
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$tools" \
  timeout 900 "$PYTHON" -m schemathesis.cli --config-file "$tools/schemathesis.toml" run "$base/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance,use_after_free,ensure_resource_availability \
  --seed "${ATENDE_ST_SEED:-20261123}" --max-examples "${ATENDE_ST_EXAMPLES:-40}" --workers 2 --no-color
