"""The examples against a CSMS that is not the embedded one (README, "Against your CSMS").

An example whose ``await`` needs the CSMS to act says so at its top and prompts for each
request; none relies on what only the embedded mock CSMS answers: its virtual
``currentTime``, or tags it refuses by their prefix alone. Checked by running them, over
loopback, against ``mockpoint csms`` in a process of its own, whose clock is the wall clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.scenario import model
from mockpoint.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
HEADER = "# Needs the CSMS to act: "
SEE = "(see README, 'Against your CSMS')"


def awaits(path: Path) -> list[model.AwaitStep]:
    return [step for step in load_scenario(path).steps if isinstance(step, model.AwaitStep)]


def mock_csms_block(path: Path) -> dict[str, Any] | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    block = data.get("mock_csms")
    return block if isinstance(block, dict) else None


def header(path: Path) -> str:
    """The comment lines above the scenario's first key, joined."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.removeprefix("#").strip())
    return " ".join(lines)


def test_the_readme_section_the_examples_point_to_exists() -> None:
    assert "\n### Against your CSMS\n" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_that_needs_the_csms_to_act_says_so_and_prompts(example: Path) -> None:
    steps = awaits(example)
    if not steps:
        assert HEADER.strip("# :") not in header(example)
        return
    assert ("# " + header(example)).startswith(HEADER), f"{example.name}: no header comment"
    assert header(example).rstrip(".").endswith(SEE)
    for step in steps:
        assert step.prompt, f"{example.name}: await {step.await_} has no prompt"
        assert len(step.prompt) > 20


def run_examples(paths: list[Path], csms: Csms, tmp_path: Path) -> list[str]:
    """Run ``paths`` against ``csms`` (something acts on its side); each scenario's status."""
    report = tmp_path / "r.json"
    args = ["run", *map(str, paths), "--csms", csms.url, "--wait-for-csms", str(10 * UNIT)]
    main([*args, "-q", "--json", str(report)])
    return [s["status"] for s in json.loads(report.read_text(encoding="utf-8"))["scenarios"]]


@pytest.mark.slow
def test_examples_that_only_send_pass_against_a_csms_on_wall_time_that_knows_no_tag(
    tmp_path: Path,
) -> None:
    """A CSMS whose clock is the wall clock (the charge point's virtual clock runs ahead of
    it) and that knows none of the refused tags: they are all Invalid there."""
    plain = [path for path in EXAMPLES if not awaits(path)]
    assert len(plain) >= 4
    config = yaml.safe_dump({"id_tags": {"invalid": ["BLOCKED-1", "EXPIRED-1"]}})
    csms = Csms(tmp_path, config)
    try:
        assert run_examples(plain, csms, tmp_path) == ["passed"] * len(plain)
        answers = [
            f["frame"][2]
            for f in csms.frames()
            if f["direction"] == "out" and f["frame"][0] == 3 and "idTagInfo" in f["frame"][2]
        ]
        assert {"status": "Invalid"} in [a["idTagInfo"] for a in answers]
        assert {"status": "Blocked"} not in [a["idTagInfo"] for a in answers]
    finally:
        csms.stop()


@pytest.mark.slow
@pytest.mark.parametrize("example", [p for p in EXAMPLES if awaits(p)], ids=lambda p: p.stem)
def test_examples_that_need_the_csms_to_act_pass_when_it_does(
    example: Path, tmp_path: Path
) -> None:
    """The example's own ``mock_csms`` block served by a stand-alone mock CSMS on wall time
    plays a CSMS that acts: the example passes there as it does against the embedded one."""
    block = mock_csms_block(example)
    assert block is not None
    csms = Csms(tmp_path, yaml.safe_dump(block))
    try:
        assert run_examples([example], csms, tmp_path) == ["passed"]
    finally:
        csms.stop()
