"""The CSMS driver (docs/csms-driver.md): what makes a real CSMS act when a scenario waits
for it, with no person in the loop.

An ``await`` step waits for a request only the CSMS sends (a RemoteStartTransaction, a
Reset, a ReserveNow). Against the embedded mock CSMS a scenario's ``mock_csms`` block makes
it send them; a real CSMS sends them when someone asks it through its own API. The driver is
that someone: a command (``--csms-driver 'python drivers/my_csms.py'``) run with a JSON
description of the awaited request on its standard input, or an ``http(s)://`` URL the
description is POSTed to. It answers, by its exit code or HTTP status:

- done (exit 0, HTTP 2xx): the CSMS was asked; the step waits for the request to arrive;
- not applicable (exit 77, HTTP 501): the CSMS lacks this feature; the scenario is "not
  applicable", never a failure (77 is what automake and meson call a skipped test);
- anything else: the driver failed, which fails the step with the driver's own words.

The description is built by :func:`describe_request`; what a driver may rely on is documented in
docs/csms-driver.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mockpoint.csms.config import (
    CsmsConfig,
    PeriodicRequest,
    ScriptedRequest,
    TriggeredRequest,
)
from mockpoint.ocpp16.actions import ACTIONS, Profile
from mockpoint.scenario import model
from mockpoint.scenario.matchers import UnknownVariable, resolve
from mockpoint.station.station import Station

__all__ = [
    "FEATURES",
    "NOT_APPLICABLE_EXIT",
    "CsmsDriver",
    "DriverAnswer",
    "describe_request",
    "feature",
    "lacking",
    "mock_csms_examples",
]

#: The exit code a driver command uses for "the CSMS lacks this feature".
NOT_APPLICABLE_EXIT = 77
#: The HTTP status a driver endpoint uses for it.
NOT_APPLICABLE_HTTP = 501
#: The version of the description's format; grows only by new fields.
FORMAT = 1
#: How much of a driver's output a report keeps (the end of it, where errors are).
_OUTPUT_KEPT = 4000
#: How long a driver that outlived its step may go on before it is stopped.
_GRACE = 5.0


@dataclass(frozen=True)
class DriverAnswer:
    """What the driver said."""

    verdict: Literal["done", "not_applicable", "failed"]
    #: the driver's reason (not applicable) or what went wrong (failed), for the report
    detail: str
    #: real seconds it took
    seconds: float


class CsmsDriver:
    """A driver command or URL, as ``--csms-driver`` or a scenario's ``csms_driver`` gives it.

    A command runs through the shell (``sh -c``), in ``folder`` (a scenario file's driver
    runs in the file's folder, as its other paths do), in a session of its own so that a
    driver that hangs is stopped with all its children.
    """

    def __init__(
        self,
        spec: str,
        *,
        folder: Path | None = None,
        examples: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.spec = spec.strip()
        self.folder = folder
        #: per action, the payloads the scenario's ``mock_csms`` block sends (see
        #: :func:`mock_csms_examples`); the n-th await of an action gets the n-th
        self._examples = {action: list(payloads) for action, payloads in (examples or {}).items()}
        self._asked: dict[str, int] = {}
        #: drivers still running after their step got its request (see :meth:`finish`)
        self._running: set[asyncio.Task[DriverAnswer]] = set()

    def __repr__(self) -> str:
        return f"CsmsDriver({self.spec!r})"

    @property
    def is_url(self) -> bool:
        return self.spec.lower().startswith(("http://", "https://"))

    def example(self, action: str) -> dict[str, Any] | None:
        """The payload the embedded mock CSMS would have sent for the next await of
        ``action``: a hint of what the case means the CSMS to send."""
        payloads = self._examples.get(action)
        if not payloads:
            return None
        asked = self._asked.get(action, 0)
        self._asked[action] = asked + 1
        return dict(payloads[min(asked, len(payloads) - 1)])

    def start(self, description: dict[str, Any], seconds: float) -> asyncio.Task[DriverAnswer]:
        """Start asking the CSMS to act; the task's result is the driver's answer, within
        ``seconds`` (a driver still running then is stopped and counts as failed)."""
        task = asyncio.create_task(self._act(description, seconds))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def finish(self) -> None:
        """Let drivers still running (their request arrived before they returned) end,
        for a few seconds at most, then stop them."""
        running = list(self._running)
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=_GRACE)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _act(self, description: dict[str, Any], seconds: float) -> DriverAnswer:
        started = time.perf_counter()
        if self.is_url:
            verdict, detail = await asyncio.to_thread(self._post, description, seconds)
        else:
            verdict, detail = await self._run(description, seconds)
        return DriverAnswer(verdict, detail, time.perf_counter() - started)

    async def _run(
        self, description: dict[str, Any], seconds: float
    ) -> tuple[Literal["done", "not_applicable", "failed"], str]:
        body = json.dumps(description).encode()
        try:
            process = await asyncio.create_subprocess_shell(
                self.spec,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.folder,
                env={**os.environ, **environment(description)},
                start_new_session=True,
            )
        except OSError as exc:
            return "failed", f"the CSMS driver could not be started: {exc}"
        try:
            async with asyncio.timeout(seconds):
                out, err = await process.communicate(body)
        except TimeoutError:
            await _stop(process)
            return "failed", f"the CSMS driver did not finish within {seconds:g} s (stopped)"
        except BaseException:
            await _stop(process)
            raise
        code = process.returncode
        stdout, stderr = _text(out), _text(err)
        if code == 0:
            return "done", stdout
        if code == NOT_APPLICABLE_EXIT:
            reason = _first_line(stdout) or _first_line(stderr)
            return "not_applicable", reason or f"the CSMS driver exited {code}"
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
        return "failed", _with_output(f"the CSMS driver failed ({how})", stderr or stdout)

    def _post(
        self, description: dict[str, Any], seconds: float
    ) -> tuple[Literal["done", "not_applicable", "failed"], str]:
        request = urllib.request.Request(
            self.spec,
            data=json.dumps(description).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "mockpoint"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=seconds) as response:
                return "done", _text(response.read(_OUTPUT_KEPT))
        except urllib.error.HTTPError as exc:
            text = _text(exc.read(_OUTPUT_KEPT))
            if exc.code == NOT_APPLICABLE_HTTP:
                return "not_applicable", _reason(text) or f"the CSMS driver answered {exc.code}"
            return "failed", _with_output(f"the CSMS driver answered HTTP {exc.code}", text)
        except TimeoutError:
            return "failed", f"the CSMS driver did not answer within {seconds:g} s"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return "failed", f"could not reach the CSMS driver at {self.spec}: {reason}"


def describe_request(
    step: model.AwaitStep,
    *,
    scenario: str,
    file: str,
    station: Station,
    variables: dict[str, Any],
    seconds: float,
    example: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON a driver gets: what the step waits for, and the ids it needs to ask for it
    (docs/csms-driver.md, "What the driver gets")."""
    expect = _resolved(step.expect, variables)
    prompt = _resolved(step.prompt, variables)
    wanted = expect if isinstance(expect, dict) else {}
    connector = _int(wanted.get("connectorId"))
    transaction = _int(wanted.get("transactionId"))
    tag = wanted.get("idTag") if isinstance(wanted.get("idTag"), str) else None
    reservation = _int(wanted.get("reservationId"))
    open_ = _open_transaction(station, connector, transaction)
    if open_ is not None:
        connector = connector if connector is not None else open_[0]
        transaction = transaction if transaction is not None else open_[1]
        tag = tag if tag is not None else open_[2]
    if tag is None and isinstance(variables.get("TAG_ACCEPTED"), str):
        tag = variables["TAG_ACCEPTED"]
    if reservation is None and len(station.reservations) == 1:
        reservation = next(iter(station.reservations))
    if example is not None:
        # The example satisfies the step: what it expects outright (a --tag's id where the
        # block names the pack's default one) wins over what the block would have sent.
        example = _filled(example, transaction) | {
            key: value for key, value in wanted.items() if not isinstance(value, (dict, list))
        }
    location = step.location
    return {
        "mockpoint": FORMAT,
        "scenario": scenario,
        "file": file,
        "step": {
            "location": str(location) if location else None,
            "line": location.line if location else None,
            "name": step.name,
        },
        "charge_point": station.identity.charge_point_id,
        "action": step.await_,
        "expect": expect,
        "prompt": prompt,
        "within": seconds,
        "connector": connector,
        "transaction_id": transaction,
        "id_tag": tag,
        "reservation_id": reservation,
        "example": example,
        "variables": {name: value for name, value in variables.items() if _plain(value)},
    }


def environment(description: dict[str, Any]) -> dict[str, str]:
    """The description's main fields as ``MOCKPOINT_*`` variables, for a driver written in
    shell; a field that is unknown is left out."""
    fields = {
        "MOCKPOINT_ACTION": description["action"],
        "MOCKPOINT_CHARGE_POINT": description["charge_point"],
        "MOCKPOINT_CONNECTOR": description["connector"],
        "MOCKPOINT_TRANSACTION_ID": description["transaction_id"],
        "MOCKPOINT_ID_TAG": description["id_tag"],
        "MOCKPOINT_RESERVATION_ID": description["reservation_id"],
        "MOCKPOINT_SCENARIO": description["scenario"],
        "MOCKPOINT_STEP": description["step"]["location"],
        "MOCKPOINT_FILE": description["file"],
        "MOCKPOINT_PROMPT": description["prompt"],
        "MOCKPOINT_EXPECT": description["expect"],
        "MOCKPOINT_EXAMPLE": description["example"],
    }
    return {
        name: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for name, value in fields.items()
        if value is not None
    }


def mock_csms_examples(config: CsmsConfig) -> dict[str, list[dict[str, Any]]]:
    """Per action, the payloads a ``mock_csms`` block has the embedded CSMS send, in the
    order a scenario meets them: after the boot, then in answer to the charge point's
    requests, then periodically."""
    examples: dict[str, list[dict[str, Any]]] = {}
    sends: list[ScriptedRequest | TriggeredRequest | PeriodicRequest] = [
        *config.on_boot,
        *config.on_request,
        *config.periodic,
    ]
    for request in sends:
        examples.setdefault(request.action, []).append(dict(request.payload))
    return examples


def _filled(payload: dict[str, Any], transaction: int | None) -> dict[str, Any]:
    """``${transaction_id}`` (the mock CSMS's placeholder) as the open transaction's id."""

    def fill(value: Any) -> Any:
        if value == "${transaction_id}":
            return transaction
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    filled: dict[str, Any] = fill(payload)
    return filled


def _open_transaction(
    station: Station, connector: int | None, transaction: int | None
) -> tuple[int, int | None, str] | None:
    """(connector, transaction id, id tag) of the open transaction the step is most likely
    about: the one with ``transaction``'s id, else on ``connector``, else the first."""
    found = [
        (number, open_.transaction_id, open_.id_tag)
        for number, open_ in sorted(station.transactions.items())
        if not open_.stopping
    ]
    for item in found:
        if transaction is not None and item[1] == transaction:
            return item
    for item in found:
        if connector is not None and item[0] == connector:
            return item
    return found[0] if found and connector is None and transaction is None else None


def _resolved(value: Any, variables: dict[str, Any]) -> Any:
    try:
        return resolve(value, variables)
    except UnknownVariable:
        return value  # the step itself reports it


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _text(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _OUTPUT_KEPT else "…" + text[-_OUTPUT_KEPT:]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _reason(text: str) -> str:
    """A 501's reason: ``{"reason": ...}`` (or ``error``) in a JSON body, else its text."""
    try:
        data = json.loads(text)
    except ValueError:
        return _first_line(text)
    if isinstance(data, dict):
        for key in ("reason", "error", "detail", "message"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return _first_line(text)


def _with_output(headline: str, output: str) -> str:
    return f"{headline}:\n{output}" if output else headline


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop a driver and everything it started: SIGTERM to its session, SIGKILL after a
    second."""
    if process.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            async with asyncio.timeout(wait):
                await process.wait()
            return
        except TimeoutError:
            continue


# --- what a scenario needs the CSMS to do ------------------------------------------------------

#: ``--csms-lacks`` names for the feature profiles (OCPP 1.6 §3.2), and their short forms.
FEATURES: dict[str, Profile] = {
    "core": Profile.CORE,
    "firmware-management": Profile.FIRMWARE_MANAGEMENT,
    "local-auth-list-management": Profile.LOCAL_AUTH_LIST_MANAGEMENT,
    "local-auth-list": Profile.LOCAL_AUTH_LIST_MANAGEMENT,
    "reservation": Profile.RESERVATION,
    "smart-charging": Profile.SMART_CHARGING,
    "remote-trigger": Profile.REMOTE_TRIGGER,
    "security": Profile.SECURITY,
}


def feature(name: str) -> str:
    """The canonical form of one ``--csms-lacks`` name: a feature profile (``reservation``,
    ``local-auth-list``, or as SupportedFeatureProfiles spells it, ``Reservation``) or an
    action the CSMS sends (``UnlockConnector``); ValueError for anything else."""
    wanted = name.strip()
    for key, profile in FEATURES.items():
        if wanted.lower() in (key, profile.value.lower()):
            return profile.value
    for action, info in ACTIONS.items():
        if wanted.lower() == action.lower() and info.sent_by_central_system():
            return action
    raise ValueError(name)


def lacking(scenario: model.Scenario, lacks: tuple[str, ...]) -> list[str]:
    """What of ``lacks`` (canonical names, :func:`feature`) the scenario needs: the requests
    it awaits from the CSMS, and their feature profiles."""
    needed: dict[str, None] = {}
    for step in scenario.steps:
        if isinstance(step, model.AwaitStep):
            info = ACTIONS.get(step.await_)
            needed[step.await_] = None
            if info is not None:
                needed[info.profile.value] = None
    return [name for name in needed if name in lacks]


def prompted(scenario: model.Scenario) -> list[str]:
    """The prompts of the scenario's ``await`` steps: what someone has to make the CSMS do."""
    return [
        step.prompt
        for step in scenario.steps
        if isinstance(step, model.AwaitStep) and step.prompt is not None
    ]
