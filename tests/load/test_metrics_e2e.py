"""``mockpoint load --metrics-port``: a Prometheus scrape while the run goes on sees the
run's own figures (docs/load-metrics.md), and they end where the run's result ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conftest import UNIT

SCENARIO = """\
name: heartbeats
charge_point: {id: CP-M, connectors: 1}
clock: {speed: 0}
mock_csms: {boot: {interval: 1}}
steps:
  - send: Heartbeat
"""


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5 * UNIT) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_scrape_during_the_run_sees_its_charge_points_and_calls(tmp_path: Path) -> None:
    scenario = tmp_path / "heartbeats.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    result = tmp_path / "result.json"
    command = [sys.executable, "-m", "mockpoint", "load", str(scenario), "-n", "5"]
    command += ["--duration", "6s", "--workers", "0", "--metrics-port", "0", "-q"]
    command += ["--json", str(result)]
    run = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ
    )
    try:
        assert run.stdout is not None
        line = run.stdout.readline()
        assert line.startswith("metrics: http://127.0.0.1:"), line
        url = line.split()[1]
        deadline = time.monotonic() + 5 * UNIT
        seen: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        heartbeats = ("mockpoint_load_calls_total", (("action", "Heartbeat"), ("outcome", "ok")))
        while time.monotonic() < deadline:
            seen = scrape(url)
            if (
                seen.get(("mockpoint_load_charge_points_connected", ())) == 5
                and seen.get(heartbeats, 0) >= 10
            ):
                break
            time.sleep(0.2)
        assert seen[("mockpoint_load_charge_points_connected", ())] == 5
        assert seen[("mockpoint_load_charge_points_target", ())] == 5
        assert seen[heartbeats] >= 10  # a Heartbeat a second from each, by the CSMS's interval
        assert seen[("mockpoint_load_connections_opened_total", ())] == 5
        during = seen[heartbeats]
        output, _ = run.communicate(timeout=30 * UNIT)
    finally:
        run.kill()
    assert run.returncode == 0, output
    final = json.loads(result.read_text(encoding="utf-8"))
    assert during <= final["actions"]["Heartbeat"]["ok"]
