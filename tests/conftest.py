"""Shared test support.

``oca_check`` validates payloads with the ``jsonschema`` library against the OCA schemas:
a second validator, independent of the ``fastjsonschema`` one mockpoint itself uses, so a
bug in our validation cannot hide a frame that a strict CSMS would refuse.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from hypothesis import settings

from mockpoint.ocpp16.schemas import load_schema

if TYPE_CHECKING:
    from csms_process import Csms

# The same examples on every run and machine: a CI failure can be reproduced, and no run
# fails for a slow machine's timing (Hypothesis' deadline).
settings.register_profile("mockpoint", derandomize=True, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mockpoint"))

#: Scenario files under tests/ are test data (many invalid on purpose), not tests for
#: mockpoint's own pytest plugin to collect.
collect_ignore_glob = ["scenario/data/*"]

#: Every timeout in the tests is a multiple of this, so a slow machine can scale them all.
UNIT = float(os.environ.get("MOCKPOINT_TEST_TIMEOUT_UNIT", "1.0"))

_FORMATS = jsonschema.Draft4Validator.FORMAT_CHECKER


def oca_errors(action: str, payload: dict[str, Any], *, response: bool = False) -> list[str]:
    """Every way ``payload`` breaks the OCA schema, per the jsonschema library."""
    schema = load_schema(action, response)
    # Decimal keeps `multipleOf: 0.1` exact, as the ocpp package does for the same reason.
    instance = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    validator = jsonschema.Draft4Validator(schema, format_checker=_FORMATS)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(instance)]


def assert_frame_valid(text: str) -> None:
    """Assert that ``text`` is a well-formed CALL whose payload passes the OCA schema."""
    frame = json.loads(text)
    assert isinstance(frame, list) and frame[0] == 2 and len(frame) == 4, text
    assert isinstance(frame[1], str) and 0 < len(frame[1]) <= 36, text
    errors = oca_errors(frame[2], frame[3])
    assert not errors, f"{frame[2]} breaks the OCA schema: {errors}"


@pytest.fixture
def oca_check() -> Callable[..., list[str]]:
    return oca_errors


# --- secrets never written down (OCPP 1.6 security whitepaper: never log the password) ----

#: Every password the tests use (tests/security). Each is unique enough that finding it in a
#: file means it leaked; the session fails if any report, transcript or log holds one.
TEST_PASSWORDS: tuple[str, ...] = (
    "Sesame-Profile1-Pw-7f3a",  # the CSMS's password of the charge points
    "Rotated-AuthKey-0c9e-b2d4",  # the AuthorizationKey a CSMS sets at run time
    "Wrong-Guess-55e1-Pw-a9c0",  # a password the CSMS refuses
    "From-Env-Var-3b7d-Pw-e6f2",  # a password that comes from ${ENV}
)

#: Inputs the tests write on purpose (scenario and CSMS files, certificates): not scanned.
_INPUT_SUFFIXES = frozenset({".yaml", ".yml", ".pem", ".key"})
_BASIC_TOKEN = re.compile(r"Basic\s+([A-Za-z0-9+/=]{8,})")


def password_leaks(text: str, passwords: tuple[str, ...] = TEST_PASSWORDS) -> list[str]:
    """The passwords ``text`` reveals: written out, or inside a Basic-auth token."""
    found = [password for password in passwords if password in text]
    for token in _BASIC_TOKEN.findall(text):
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue
        found += [f"{p} (in a Basic token)" for p in passwords if p in decoded]
    return found


def scan_for_passwords(folder: Path) -> dict[Path, list[str]]:
    """Every file under ``folder`` (inputs aside) that reveals a test password."""
    leaks: dict[Path, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() in _INPUT_SUFFIXES:
            continue
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        found = password_leaks(text)
        if found:
            leaks[path] = found
    return leaks


@pytest.fixture(scope="session", autouse=True)
def no_password_in_written_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end of the session: no report, transcript or log written anywhere under the
    session's temporary folders holds a test password."""
    yield
    leaks = scan_for_passwords(tmp_path_factory.getbasetemp())
    if leaks:
        shown = "; ".join(f"{path}: {', '.join(found)}" for path, found in leaks.items())
        pytest.fail(f"a test password was written into {shown}", pytrace=False)


@pytest.fixture
def csms(tmp_path: Path) -> Iterator[Csms]:
    """``mockpoint csms`` in a process of its own, logging every frame to ``tmp_path``."""
    from csms_process import Csms  # here: it imports UNIT from this module

    server = Csms(tmp_path)
    yield server
    server.stop()


def run_bash(command: str, cwd: Path, *, timeout: float, env: dict[str, str] | None = None) -> None:
    """Run ``command`` with ``bash -e`` as a user's shell would, this venv's ``mockpoint``
    first on PATH and no GitHub step summary unless ``env`` gives one; fail showing what
    it printed."""
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment.pop("GITHUB_STEP_SUMMARY", None)
    environment.update(env or {})
    result = subprocess.run(
        ["bash", "-e", "-c", command],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
