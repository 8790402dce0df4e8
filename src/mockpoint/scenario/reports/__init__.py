"""The reports of ``mockpoint run`` (docs/behaviour.md, "Reports"), all rendered from the outcome
records of :mod:`mockpoint.scenario.outcome` and nothing else.

- :class:`ConsoleReporter`: the live console output (``-q``, default, ``-v``).
- :func:`write_junit`: ``--junit FILE``.
- :func:`write_json`: ``--json FILE``.
- :class:`TranscriptWriter`: ``--transcript FILE``, one JSON object per frame.
- :func:`write_markdown` and :func:`append_github_summary`: ``--markdown FILE`` and the
  GitHub Actions job summary.
"""

from __future__ import annotations

from mockpoint.scenario.reports.console import ConsoleReporter, NullReporter, Reporter
from mockpoint.scenario.reports.json_report import json_summary, write_json
from mockpoint.scenario.reports.junit import junit_element, write_junit
from mockpoint.scenario.reports.markdown import (
    append_github_summary,
    mermaid_diagram,
    render_markdown,
    write_markdown,
)
from mockpoint.scenario.reports.transcript import TranscriptWriter, transcript_line

__all__ = [
    "ConsoleReporter",
    "NullReporter",
    "Reporter",
    "TranscriptWriter",
    "append_github_summary",
    "json_summary",
    "junit_element",
    "mermaid_diagram",
    "render_markdown",
    "transcript_line",
    "write_json",
    "write_junit",
    "write_markdown",
]
