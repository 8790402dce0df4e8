#!/usr/bin/env bash
# One charging session driven through `mockpoint serve` (docs/serve.md) with curl and jq,
# following the charge point's event stream as it goes.
#
#   mockpoint serve &
#   bash examples/serve/curl.sh [CHARGE_POINT_ID]      # MOCKPOINT_URL: the server
set -euo pipefail

url="${MOCKPOINT_URL:-http://127.0.0.1:8180}"
cp="${1:-${CHARGE_POINT_ID:-CP-CURL}}"
events="$(mktemp)"
created=""

fail() {
  echo "curl.sh: $*" >&2
  exit 1
}

# POST a JSON body; print the answer, or fail with the server's message.
post() {
  local answer status
  answer="$(curl --silent --show-error --max-time 60 --json "$2" \
    --write-out '\n%{http_code}' "$url$1")" || fail "POST $1: no answer from $url"
  status="${answer##*$'\n'}"
  answer="${answer%$'\n'*}"
  if [[ "$status" != 2* ]]; then
    fail "POST $1: $status $(jq -r '.message // .error' <<<"$answer" 2>/dev/null || echo "$answer")"
  fi
  printf '%s\n' "$answer"
}

cleanup() {
  if [[ -n "$created" ]]; then
    curl --silent --max-time 10 -X DELETE "$url/charge-points/$cp" || true
  fi
  kill "$stream" 2>/dev/null || true
  rm -f "$events"
}

# The event stream, in the background: this charge point's frames, and its creation and
# deletion. Wait for its first line, so that nothing happens before it listens.
curl --silent --show-error --no-buffer \
  "$url/events?charge_point=$cp&types=frame,charge_point" >"$events" &
stream=$!
trap cleanup EXIT
for _ in {1..50}; do
  [[ -s "$events" ]] && break
  sleep 0.1
done
[[ -s "$events" ]] || fail "no event stream from $url/events"

# A charge point of its own, on the server's embedded mock CSMS, then the session.
post /charge-points "$(jq -nc --arg id "$cp" '{charge_point: {id: $id, connectors: 1}}')" >/dev/null
created=yes
post "/charge-points/$cp/plug_in" '{"connector": 1}' >/dev/null
started="$(post "/charge-points/$cp/start_transaction" '{"connector": 1, "id_tag": "TAG-1"}')"
post "/charge-points/$cp/charge" '{"connector": 1, "power": "11kW", "duration": "30m"}' >/dev/null
post "/charge-points/$cp/stop_transaction" '{"connector": 1}' >/dev/null
post "/charge-points/$cp/unplug" '{"connector": 1}' >/dev/null
transaction="$(jq -r .answer.transactionId <<<"$started")"
listed="$(curl --silent --show-error --fail --max-time 10 "$url/charge-points/$cp/frames" | jq length)"

# Deleting it ends its story in the stream: wait for that event, then read the stream.
curl --silent --show-error --fail --max-time 10 -X DELETE "$url/charge-points/$cp"
created=""
for _ in {1..100}; do
  grep -q '"change":"deleted"' "$events" && break
  sleep 0.1
done
grep -q '"change":"deleted"' "$events" || fail "the event stream never said $cp was deleted"

frames="$(sed -n 's/^data: //p' "$events" | jq -s 'map(select(.type == "frame"))')"
order="$(jq -r 'map(select(.direction == "out" and .frame[0] == 2) | .frame[2]
  | select(. == "StartTransaction" or . == "StopTransaction")) | join(" ")' <<<"$frames")"
[[ "$order" == "StartTransaction StopTransaction" ]] ||
  fail "expected StartTransaction then StopTransaction in the event stream, saw: ${order:-none}"
wh="$(jq '(map(select(.frame[2] == "StopTransaction"))[0].frame[3].meterStop)
  - (map(select(.frame[2] == "StartTransaction"))[0].frame[3].meterStart)' <<<"$frames")"

printf '%s: transaction %s, %.2f kWh, %s frames in the event stream, %s listed by the server\n' \
  "$cp" "$transaction" "$(jq -n "$wh / 1000")" "$(jq length <<<"$frames")" "$listed"
