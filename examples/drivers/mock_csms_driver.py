#!/usr/bin/env python3
"""A CSMS driver (docs/csms-driver.md) for the mock CSMS's control API, and a template for
a driver of your own CSMS.

mockpoint runs it when an ``await`` step waits for a request only the CSMS sends: the step's
description comes as JSON on standard input. The driver asks the CSMS, through the CSMS's
own API, to send that request, and says how it went by its exit code: 0 done, 77 the CSMS
lacks this feature (the scenario is "not applicable"), anything else failed (what it
printed on standard error goes in the report).

Here "the CSMS's own API" is ``mockpoint csms --control-port 9001``: ``POST
/charge-points/{id}/{Action}`` with the request's payload. For your CSMS, replace
``ask_the_csms`` with calls to its API (start a remote transaction, reset a charger...).

    mockpoint csms --port 9000 --control-port 9001 &
    mockpoint run --pack ocpp16-csms --csms ws://127.0.0.1:9000/ocpp \\
        --csms-driver "python examples/drivers/mock_csms_driver.py"

Standard library only. The control API's address comes from CSMS_CONTROL_URL (default
http://127.0.0.1:9001).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

CONTROL = os.environ.get("CSMS_CONTROL_URL", "http://127.0.0.1:9001")
#: "the CSMS lacks this feature": the scenario is not applicable, not failed
NOT_APPLICABLE = 77


def request_for(step: dict[str, Any]) -> dict[str, Any] | None:
    """The payload to ask the CSMS for, or None when this driver does not know how."""
    if step["example"] is not None:  # what the case's own mock CSMS would have sent
        return dict(step["example"])
    connector = step["connector"] or 1
    tag = step["id_tag"] or "DRIVER-TAG"
    known: dict[str, dict[str, Any]] = {
        "RemoteStartTransaction": {"idTag": tag, "connectorId": connector},
        "RemoteStopTransaction": {"transactionId": step["transaction_id"]},
        "Reset": {"type": "Soft"},
        "UnlockConnector": {"connectorId": connector},
        "ChangeAvailability": {"connectorId": connector, "type": "Inoperative"},
        "GetConfiguration": {},
        "ClearCache": {},
        "GetLocalListVersion": {},
        "TriggerMessage": {"requestedMessage": "Heartbeat"},
    }
    payload = known.get(step["action"])
    if payload is None:
        return None
    # The values the step expects, where it names them (a Hard reset, a key and value).
    expect = step["expect"] or {}
    payload.update(
        {key: value for key, value in expect.items() if not isinstance(value, (dict, list))}
    )
    return payload


def ask_the_csms(charge_point: str, action: str, payload: dict[str, Any]) -> str:
    """Have the CSMS send ``action`` to the charge point; the CSMS's answer, for the log."""
    url = f"{CONTROL}/charge-points/{urllib.parse.quote(charge_point, safe='')}/{action}"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def main() -> int:
    step = json.load(sys.stdin)
    action = step["action"]
    payload = request_for(step)
    if payload is None:
        print(f"this driver cannot make the CSMS send {action}")
        return NOT_APPLICABLE
    try:
        answer = ask_the_csms(step["charge_point"], action, payload)
    except urllib.error.HTTPError as exc:
        print(
            f"{action}: the CSMS's API answered {exc.code}: {exc.read().decode()}", file=sys.stderr
        )
        return 1
    except OSError as exc:
        print(f"{action}: could not reach the CSMS's API at {CONTROL}: {exc}", file=sys.stderr)
        return 1
    print(f"{action} {json.dumps(payload)} -> {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
