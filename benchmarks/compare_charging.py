"""The charging row of bench_load.py for two checkouts of mockpoint, interleaved.

    git worktree add ../mockpoint-before <commit>
    .venv/bin/python benchmarks/compare_charging.py ../mockpoint-before .

Each round runs the row once for each checkout (its ``src`` first on the Python path, its own
``benchmarks/scenarios/charging.yaml``) against one stand-in CSMS, so that the machine's drift
weighs on both alike; the medians of the rounds are printed. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import bench_load
from standin_csms import start_standin, stop_standin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("checkouts", nargs="+", type=Path, help="repository roots to compare")
    parser.add_argument("-n", type=int, default=5000, help="charge points (default 5000)")
    parser.add_argument("--steady", type=float, default=30.0, help="window, s (default 30)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args(argv)
    client_cpu, standin_cpu = bench_load.choose_cpus()
    results: dict[Path, list[bench_load.Charging]] = {root: [] for root in args.checkouts}
    standin, port = start_standin(cpu=standin_cpu, interval=10)
    try:
        for round_ in range(1, args.rounds + 1):
            for root in args.checkouts:
                os.environ["PYTHONPATH"] = str((root / "src").resolve())
                bench_load.CHARGING_SCENARIO = (
                    root / "benchmarks/scenarios/charging.yaml"
                ).resolve()
                url = f"ws://127.0.0.1:{port}"
                row = bench_load.measure_charging(url, args.n, client_cpu, 200.0, args.steady)
                results[root].append(row)
                print(
                    f"round {round_} {root}: {row.cpu_per_1000_calls or 0:.3f} CPU-s per 1,000 "
                    f"calls, {row.kb_per_cp or 0:.1f} KB per CP, {row.calls:,} calls {row.note}",
                    flush=True,
                )
    finally:
        stop_standin(standin)
    for root, rows in results.items():
        cpu = [row.cpu_per_1000_calls for row in rows if row.cpu_per_1000_calls is not None]
        kb = [row.kb_per_cp for row in rows if row.kb_per_cp is not None]
        if cpu and kb:
            print(
                f"{root}: median {statistics.median(cpu):.3f} CPU-s per 1,000 calls, "
                f"{statistics.median(kb):.1f} KB per CP"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
