"""Writing the scenario: values as its steps say them, and the file's YAML text.

:mod:`~mockpoint.scenario.record.replay` builds the scenario as plain data with these:
durations (``30s``, ``5m``, ``250ms``) and powers (``11kW``, ``7400W``) as
docs/scenario-format.md reads them, what an ``expect`` keeps of a recorded payload (times
and the CSMS's transaction ids by type or by variable, see "Volatile values" in the
replay's docstring), and :class:`Flow` for the mappings written on one line.
:func:`to_yaml` writes the result in the style of ``examples/``.
"""

from __future__ import annotations

from typing import Any

import yaml

from mockpoint.scenario.record.reading import is_time


def loose(value: Any, variables: dict[int, str], *, request: bool = False, key: str = "") -> Any:
    """What an ``expect`` keeps of ``value``: times by type, the CSMS's transaction ids by
    variable (or by type when there is none)."""
    if isinstance(value, dict):
        return {k: loose(v, variables, request=request, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [loose(item, variables, request=request) for item in value]
    if key == "currentTime" or is_time(value):
        return {"$type": "string"}
    if key == "transactionId" and isinstance(value, int) and not isinstance(value, bool):
        if request and value in variables:
            return f"${{{variables[value]}}}"
        return {"$type": "integer"}
    return value


def duration_text(seconds: float) -> str:
    """``30s``, ``5m``, ``2h``, ``1.5s``, ``250ms``: what the scenario format reads."""
    millis = round(seconds * 1000)
    if millis % 1000:
        return f"{millis}ms"
    whole = millis // 1000
    if whole and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole and whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"


def power_text(watts: float) -> str | int:
    if watts == 0:
        return 0
    if watts == int(watts) and int(watts) % 1000 == 0:
        return f"{int(watts) // 1000}kW"
    if watts == int(watts):
        return f"{int(watts)}W"
    return f"{watts!r}W"


# --- YAML -----------------------------------------------------------------------------------


class Flow(dict[str, Any]):
    """A mapping written in flow style: ``{connector: 1, power: 11kW}``."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - step", as the examples are written


def _represent_flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(Flow, _represent_flow)


def to_yaml(scenario: dict[str, Any]) -> str:
    """The scenario file's text, in the style of ``examples/``."""
    text: str = yaml.dump(
        scenario,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return text
