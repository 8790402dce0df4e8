"""The Markdown report: the summary table, failing steps, Mermaid diagrams, GitHub summary."""

from __future__ import annotations

import re
from pathlib import Path

from test_reports import (
    ODD_FRAMES,
    failing_scenario,
    frame,
    full_run,
    odd_run,
    passing_scenario,
)

from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status
from mockpoint.scenario.reports import (
    append_github_summary,
    mermaid_diagram,
    render_markdown,
    write_markdown,
)

#: One arrow line of a diagram: source, arrow, target, message.
ARROW = re.compile(r"^    (CP|CSMS)(->>|-->>|--x|-\))(CP|CSMS): (.*)$")


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.MULTILINE | re.DOTALL)


def arrows(diagram: str) -> list[tuple[str, str, str, str]]:
    return [m.groups() for line in diagram.splitlines() if (m := ARROW.match(line))]  # type: ignore[misc]


def test_summary_table() -> None:
    markdown = render_markdown(full_run())
    lines = markdown.splitlines()
    assert lines[0] == "## ❌ mockpoint run: 1 passed, 1 failed, 1 unreachable, 1 error in 3.50 s"
    header = lines.index("| Scenario | File | Status | Steps passed | Duration |")
    assert lines[header + 2 : header + 6] == [
        "| Ladevorgang ü ✓ | scenarios/pass.yaml | ✅ passed | 2/2 | 250 ms |",
        "| Blocked tag | scenarios/fail.yaml | ❌ failed | 2/5 | 1.60 s |",
        "| Down | down.yaml | 🔌 unreachable | 0/1 | 10.00 s |",
        "| Bug | bug.yaml | 💥 error | 1/1 | 100 ms |",
    ]


def test_passing_run_has_no_sections() -> None:
    markdown = render_markdown(RunOutcome([passing_scenario()], 0.25))
    assert markdown.startswith("## ✅ mockpoint run: 1 passed in 250 ms\n")
    assert "###" not in markdown and "mermaid" not in markdown


def test_failing_steps_with_expected_and_actual_in_fences() -> None:
    markdown = render_markdown(full_run())
    section = markdown[markdown.index("### ❌ Blocked tag") : markdown.index("### 🔌 Down")]
    assert "**Step 2: send Authorize** at `scenarios/fail.yaml:7:5` (tolerated" in section
    assert "**Step 4: await RemoteStartTransaction** at `scenarios/fail.yaml:11:5`" in section
    assert "```text\nidTagInfo.status: expected Accepted, got Blocked\n```" in section
    assert 'Expected:\n\n```json\n{"idTagInfo":{"status":"Accepted"}}\n```' in section
    assert 'Actual:\n\n```json\n{"idTagInfo":{"status":"Blocked"}}\n```' in section
    # The unreachable and broken scenarios say why.
    assert "```text\nconnection refused: ws://127.0.0.1:9/ocpp/CP-003\n```" in markdown
    assert "RuntimeError: boom" in markdown


def test_mermaid_arrows_match_the_frames() -> None:
    markdown = render_markdown(full_run())
    blocks = mermaid_blocks(markdown)
    # The failing and the broken scenario have frames; the unreachable one none.
    assert len(blocks) == 2
    diagram = blocks[0]
    assert diagram.splitlines()[:3] == [
        "sequenceDiagram",
        "    participant CP as Charge point",
        "    participant CSMS",
    ]
    assert arrows(diagram) == [
        ("CP", "->>", "CSMS", "BootNotification Acme AC22"),
        ("CSMS", "-->>", "CP", "Accepted interval=300"),
        ("CP", "->>", "CSMS", "Authorize TAG#59;#35;1#quot;#lt;x#gt;"),
        ("CSMS", "-->>", "CP", "Blocked"),
        ("CP", "-)", "CSMS", "raw: #quot;not json {#quot;"),
        ("CSMS", "->>", "CP", "DataTransfer {#quot;vendorId#quot;:#quot;x#quot;}"),
        ("CP", "--x", "CSMS", "DataTransfer CALLERROR NotSupported"),
        ("CSMS", "-)", "CP", "malformed: [2]"),
    ]


def test_mermaid_escaping() -> None:
    scenario = failing_scenario()
    scenario.frames = [
        frame(1, "out", [2, "1", "Authorize", {"idTag": "a;b#c `d` 'e'\nf"}]),
        frame(2, "in", "x\r\ny"),
    ]
    lines = arrows(mermaid_diagram(scenario))
    assert lines[0][3] == "Authorize a#59;b#35;c #96;d#96; #39;e#39;\\nf"
    for *_, text in lines:
        # Nothing Mermaid reads as syntax is left outside an entity code.
        bare = re.sub(r"#(\d+|quot|lt|gt);", "", text)
        assert not set(bare) & set(";#\"'<>`\n")


def test_mermaid_keeps_the_last_frames() -> None:
    scenario = failing_scenario()
    scenario.frames = [
        frame(seq, "out", [2, str(seq), "Heartbeat", {}])
        if seq % 2
        else frame(seq, "in", [3, str(seq - 1), {"currentTime": f"t{seq}"}])
        for seq in range(1, 101)
    ]
    diagram = mermaid_diagram(scenario)
    assert "    Note over CP,CSMS: 40 earlier frames not shown" in diagram.splitlines()
    lines = arrows(diagram)
    assert len(lines) == 60
    # Answers at the start of the window still name what they answer.
    assert lines[0] == ("CP", "->>", "CSMS", "Heartbeat")
    assert lines[-1] == ("CSMS", "-->>", "CP", "t100")


def test_markdown_of_odd_frames() -> None:
    markdown = render_markdown(odd_run())
    (diagram,) = mermaid_blocks(markdown)
    assert len(arrows(diagram)) == len(ODD_FRAMES)
    assert "\x1b" not in markdown and "\x00" not in markdown


def test_fence_longer_than_backticks_in_the_text() -> None:
    scenario = failing_scenario()
    scenario.steps[1].message = "got ```python``` and ````"
    markdown = render_markdown(RunOutcome([scenario]))
    assert "`````text\ngot ```python``` and ````\n`````" in markdown


def test_table_cells_escape_markdown() -> None:
    scenario = ScenarioOutcome("a | b *c* <d>", "x.yaml", "CP", Status.PASSED)
    markdown = render_markdown(RunOutcome([scenario]))
    assert "| a \\| b \\*c\\* \\<d\\> | x.yaml |" in markdown


def test_write_markdown(tmp_path: Path) -> None:
    path = tmp_path / "summary" / "run.md"
    write_markdown(full_run(), path)
    assert path.read_text(encoding="utf-8") == render_markdown(full_run())


def test_github_summary_appends(tmp_path: Path) -> None:
    path = tmp_path / "step_summary.md"
    path.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(path)}
    assert append_github_summary(full_run(), env) == path
    assert append_github_summary(full_run(), env) == path
    markdown = render_markdown(full_run())
    assert path.read_text(encoding="utf-8") == f"earlier step\n{markdown}\n{markdown}\n"


def test_github_summary_is_a_no_op_without_the_variable(tmp_path: Path) -> None:
    assert append_github_summary(full_run(), {}) is None
    assert append_github_summary(full_run(), {"GITHUB_STEP_SUMMARY": ""}) is None
    assert list(tmp_path.iterdir()) == []
