"""Blackout benchmark: a fleet loses power on half of its charge points mid-transaction.

    python benchmarks/bench_blackout.py                      # 10,000 charge points
    python benchmarks/bench_blackout.py --charge-points 2000 # a quicker look

Runs ``mockpoint load`` on a fleet of N charge points, each in a long transaction, against
``mockpoint csms`` with a frame log (on this machine's loopback). At ``--at`` seconds a
blackout (docs/load-fleets.md, "Events") cuts power and network on half of them for
``--off`` seconds; each comes back within ``--spread`` seconds after that: the reconnect
storm. The frame log is the judge:

* time to full reconnection: from the power's return to the last cut charge point's new
  BootNotification;
* messages lost: a cut charge point must deliver exactly one StopTransaction, with reason
  PowerLoss, for the transaction the blackout interrupted; no transaction may be stopped
  twice and no CALL id may arrive twice from one charge point (0 and 0 and 0 expected);
* peak CPU (cores' worth over one second) and RSS of the load's and the CSMS's process trees.

Numbers are for comparing runs on one machine; benchmarks/README.md has the last ones.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import _rss, process_tree  # noqa: E402

SCENARIO = """\
name: a long charge
charge_point: {{id: CP-B, connectors: 1, configuration: {{MeterValueSampleInterval: 0}}}}
clock: {{speed: 1}}
timeout: 60s
steps:
  - plug_in: {{connector: 1}}
  - start_transaction: {{connector: 1, id_tag: TAG-1}}
  - charge: {{connector: 1, power: 11kW}}
  - wait: {hold}s
"""
FLEET = """\
fleet: blackout benchmark
charge_points: {count}
arrivals: ramp:{rate}/s
seed: 1
groups:
  - {{scenario: charging.yaml, name: depot, weight: 1, id_pattern: "BO-{{n:05d}}", loop: false}}
events:
  - {{at: {at}s, blackout: {{fraction: 0.5, for: {off}s, reconnect_within: {spread}s}}}}
"""
CSMS_CONFIG = "boot: {interval: 60}\n"


class Peaks(threading.Thread):
    """Peak CPU (cores over a second) and RSS of two process trees, sampled each second."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.cpu = dict.fromkeys(roots, 0.0)
        self.rss = dict.fromkeys(roots, 0)
        self._halt = threading.Event()

    def run(self) -> None:
        before: dict[str, dict[int, float]] = {name: {} for name in self.roots}
        at = time.monotonic()
        while not self._halt.wait(1.0):
            now, elapsed = time.monotonic(), time.monotonic() - at
            at = now
            for name, root in self.roots.items():
                tree = process_tree(root)
                used = sum(
                    cpu - before[name][pid] for pid, cpu in tree.items() if pid in before[name]
                )
                before[name] = tree
                self.cpu[name] = max(self.cpu[name], used / elapsed if elapsed > 0 else 0.0)
                self.rss[name] = max(self.rss[name], sum(_rss(pid) for pid in tree))

    def halt(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wall(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def judge(log: Path, result: dict[str, object]) -> dict[str, object]:
    """What the CSMS's frame log says of the cut charge points."""
    boots: dict[str, list[float]] = defaultdict(list)
    stops: dict[str, list[dict[str, object]]] = defaultdict(list)
    ids: dict[str, Counter[str]] = defaultdict(Counter)
    stopped: Counter[object] = Counter()
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            frame = record["frame"]
            if record["direction"] != "in" or not isinstance(frame, list) or frame[0] != 2:
                continue
            cp, action, payload = record["cp"], frame[2], frame[3]
            ids[cp][frame[1]] += 1
            if action == "BootNotification":
                boots[cp].append(wall(record["wall_time"]))
            elif action == "StopTransaction":
                stops[cp].append(payload)
                stopped[payload.get("transactionId")] += 1
    cut = sorted(cp for cp, times in boots.items() if len(times) >= 2)
    events = result["events"]
    assert isinstance(events, list) and events, "the run applied no blackout"
    back = float(events[0]["at"]) + float(args.off)
    reconnected = [boots[cp][1] for cp in cut]
    wrong_stops = [cp for cp in cut if [s.get("reason") for s in stops[cp]] != ["PowerLoss"]]
    return {
        "touched": events[0]["charge_points"],
        "cut": len(cut),
        "full_reconnection_s": round(max(reconnected) - back, 2) if reconnected else None,
        "lost_or_wrong_stops": len(wrong_stops),
        "transactions_stopped_twice": sum(1 for n in stopped.values() if n > 1),
        "call_ids_repeated": sum(1 for c in ids.values() for n in c.values() if n > 1),
    }


def main(argv: list[str] | None = None) -> int:
    global args
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=500, help="arrivals per second")
    parser.add_argument("--at", type=float, default=None, help="blackout at (s)")
    parser.add_argument("--off", type=float, default=10.0, help="power off for (s)")
    parser.add_argument("--spread", type=float, default=10.0, help="reconnections within (s)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    count = args.charge_points
    ramp = count / args.rate
    at = args.at if args.at is not None else round(ramp + 10)
    duration = at + args.off + args.spread + 30
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "charging.yaml").write_text(SCENARIO.format(hold=int(duration * 2)), "utf-8")
        fleet = work / "fleet.yaml"
        fleet.write_text(
            FLEET.format(count=count, rate=args.rate, at=at, off=args.off, spread=args.spread),
            "utf-8",
        )
        (work / "csms.yaml").write_text(CSMS_CONFIG, "utf-8")
        port, log, result = free_port(), work / "frames.jsonl", work / "result.json"
        csms = subprocess.Popen(
            [sys.executable, "-m", "mockpoint", "csms", "--port", str(port), "--config",
             str(work / "csms.yaml"), "--log", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(2.0)
        load = subprocess.Popen(
            [sys.executable, "-m", "mockpoint", "load", str(fleet), "--duration", f"{duration}s",
             "--csms", f"ws://127.0.0.1:{port}/ocpp", "--connect-timeout", "120", "-q",
             "--json", str(result), "--threshold", "failed_steps<100%"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        peaks = Peaks({"load": load.pid, "csms": csms.pid})
        peaks.start()
        output, _ = load.communicate(timeout=duration + 300)
        peaks.halt()
        csms.terminate()
        csms.wait(timeout=30)
        if load.returncode not in (0, 1):
            print(output)
            return 1
        data = json.loads(result.read_text(encoding="utf-8"))
        numbers = judge(log, data)
    numbers |= {
        "charge_points": count,
        "connections_opened": data["connections"]["opened"],
        "steps_failed": data["steps"]["failed"],
        "load_peak_cpu_cores": round(peaks.cpu["load"], 2),
        "load_peak_rss_mib": round(peaks.rss["load"] / 2**20),
        "csms_peak_cpu_cores": round(peaks.cpu["csms"], 2),
        "csms_peak_rss_mib": round(peaks.rss["csms"] / 2**20),
    }
    for name, value in numbers.items():
        print(f"{name:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    lost = numbers["lost_or_wrong_stops"], numbers["transactions_stopped_twice"]
    return 0 if lost == (0, 0) and numbers["call_ids_repeated"] == 0 else 1


args: argparse.Namespace

if __name__ == "__main__":
    sys.exit(main())
