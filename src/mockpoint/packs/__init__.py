"""Built-in scenario packs: ``mockpoint run --pack NAME``.

``ocpp16-csms`` is the CSMS conformance pack: one scenario per Open Charge Alliance OCTT 1.6
test case whose system under test is the Central System and that is in mockpoint's scope,
named after its TC number. It passes against the embedded mock CSMS (whose part each
scenario scripts in its ``mock_csms`` block) and gives a verdict against a real CSMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mockpoint.errors import UsageError

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Input:
    """Something a real CSMS must provide for a pack scenario to run."""

    variable: str
    option: str
    description: str


#: The inputs pack scenarios use, as ``${VARIABLE}``. With the embedded CSMS they default to
#: tags it answers accordingly; against a real CSMS a scenario that needs one that was not
#: given is skipped, with the reason.
INPUTS: tuple[Input, ...] = (
    Input("TAG_ACCEPTED", "--tag accepted=ID", "an idTag the CSMS accepts"),
    Input("TAG_ACCEPTED_2", "--tag accepted2=ID", "a second idTag the CSMS accepts"),
    Input("TAG_BLOCKED", "--tag blocked=ID", "an idTag the CSMS blocks"),
    Input("TAG_EXPIRED", "--tag expired=ID", "an idTag the CSMS reports expired"),
    Input("TAG_INVALID", "--tag invalid=ID", "an idTag the CSMS does not know (Invalid)"),
    Input("CSMS_URL", "--csms URL", "a CSMS with the security profile this case tests"),
    Input(
        "CSMS_PASSWORD",
        "--var CSMS_PASSWORD=... (or the environment)",
        "the Basic-auth password the CSMS expects for this charge point",
    ),
    Input("CSMS_CA", "--var CSMS_CA=FILE", "the CA certificate (PEM) of the CSMS"),
    Input(
        "CSMS_CLIENT_CERT", "--var CSMS_CLIENT_CERT=FILE", "a client certificate the CSMS trusts"
    ),
    Input("CSMS_CLIENT_KEY", "--var CSMS_CLIENT_KEY=FILE", "the key of CSMS_CLIENT_CERT"),
)

#: The values of :data:`INPUTS` against the embedded CSMS (its id-tag prefixes do the rest).
EMBEDDED_DEFAULTS: dict[str, str] = {
    "TAG_ACCEPTED": "PACK-TAG-1",
    "TAG_ACCEPTED_2": "PACK-TAG-2",
    "TAG_BLOCKED": "BLOCKED-PACK",
    "TAG_EXPIRED": "EXPIRED-PACK",
    "TAG_INVALID": "INVALID-PACK",
}

#: ``--tag NAME=ID`` names and the variable each sets.
TAG_OPTIONS: dict[str, str] = {
    "accepted": "TAG_ACCEPTED",
    "accepted2": "TAG_ACCEPTED_2",
    "blocked": "TAG_BLOCKED",
    "expired": "TAG_EXPIRED",
    "invalid": "TAG_INVALID",
}

#: why a scenario that needs an input nobody gave is skipped: RunOptions.inputs
INPUT_REASONS: dict[str, str] = {i.variable: f"{i.description}: set {i.option}" for i in INPUTS}

PACKS: dict[str, Path] = {"ocpp16-csms": _HERE / "ocpp16_csms"}


def run_variables(
    variables: Mapping[str, str], tags: Mapping[str, str], csms_url: str | None, *, source: str
) -> dict[str, str]:
    """The ``${NAME}`` values of a run: ``variables`` (``--var``), the CSMS URL as
    ``CSMS_URL`` unless given, and the pack's id tags (``--tag accepted=ID``); an unknown
    tag name is a :class:`UsageError` naming ``source``."""
    values = dict(variables)
    if csms_url:
        values.setdefault("CSMS_URL", csms_url)
    for name, value in tags.items():
        if name not in TAG_OPTIONS:
            raise UsageError(f"{source} {name}=...: use one of {', '.join(TAG_OPTIONS)}")
        values[TAG_OPTIONS[name]] = value
    return values


def pack_files(name: str, only: list[str] | None = None) -> list[Path]:
    """The scenario files of pack ``name``, sorted; ``only`` keeps the cases named (a case
    ``TC_004`` selects ``TC_004_1_CSMS`` and ``TC_004_2_CSMS``)."""
    folder = PACKS.get(name)
    if folder is None:
        raise UsageError(f"unknown pack {name!r}; packs: {', '.join(PACKS)}")
    files = sorted(folder.glob("*.yaml"))
    if not only:
        return files
    wanted = [case.strip().upper().removesuffix("_CSMS") for case in only if case.strip()]
    chosen = [f for f in files if any(f.stem.upper().startswith(w + "_") for w in wanted)]
    unknown = [w for w in wanted if not any(f.stem.upper().startswith(w + "_") for f in files)]
    if unknown:
        raise UsageError(f"no case {', '.join(unknown)} in pack {name}")
    return chosen
