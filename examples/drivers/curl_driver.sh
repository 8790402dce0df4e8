#!/bin/sh
# A CSMS driver (docs/csms-driver.md) in shell, with curl: a template for a CSMS whose API
# takes one HTTP call per command. mockpoint runs it when an `await` step waits for a
# request only the CSMS sends; the MOCKPOINT_* variables say what (the same fields as the
# JSON on standard input). Exit 0: done; 77: the CSMS lacks this feature (the scenario is
# "not applicable"); anything else: failed, with what went to standard error.
#
# As written it drives `mockpoint csms --control-port 9001` (POST
# /charge-points/{id}/{Action} with the request's payload); point CSMS_CONTROL_URL and the
# routes at your CSMS's API.
#
#   mockpoint run examples/ --csms ws://127.0.0.1:9000/ocpp \
#       --csms-driver "sh examples/drivers/curl_driver.sh"
set -eu

api="${CSMS_CONTROL_URL:-http://127.0.0.1:9001}"
connector="${MOCKPOINT_CONNECTOR:-1}"
tag="${MOCKPOINT_ID_TAG:-DRIVER-TAG}"

# What the case's own mock CSMS would have sent, when it says; else a request of our own.
body="${MOCKPOINT_EXAMPLE:-}"
if [ -z "$body" ]; then
  case "$MOCKPOINT_ACTION" in
    RemoteStartTransaction) body="{\"idTag\": \"$tag\", \"connectorId\": $connector}" ;;
    RemoteStopTransaction) body="{\"transactionId\": ${MOCKPOINT_TRANSACTION_ID:?no open transaction}}" ;;
    Reset) body='{"type": "Soft"}' ;;
    UnlockConnector) body="{\"connectorId\": $connector}" ;;
    GetConfiguration | ClearCache | GetLocalListVersion) body='{}' ;;
    *)
      echo "this driver cannot make the CSMS send $MOCKPOINT_ACTION"
      exit 77
      ;;
  esac
fi

# --fail-with-body: an HTTP error is a failed driver, and its body lands in the report.
curl --silent --show-error --fail-with-body --max-time 30 \
  -X POST -H 'Content-Type: application/json' --data "$body" \
  "$api/charge-points/$MOCKPOINT_CHARGE_POINT/$MOCKPOINT_ACTION" >&2
