"""How fast `dlbasics grade --cluster` is next to the local pool, on the same machine and notebooks.

    .venv/bin/python bench/cluster_speed.py [--n 1000] [--assignment 01-linear-regression]
                                            [--workers 2] [--repeat 1] [--smoke] [--json FILE]

1. N submissions built like ``bench/grade_speed.py`` builds its class (its ``make_class``: about
   60 % correct, 25 % one common mistake, 5 % partly and 10 % not answered, one that loops
   forever in a cell it added).
2. ``dlbasics grade <a> <dir> --out <fresh dir> --jobs W`` (the local pool of W sandboxed
   workers), then ``dlbasics grade ... --cluster ADDRESS`` against a ``LocalCluster`` of W worker
   processes with one thread each, started by this script before the clock starts (an instructor
   grades on a cluster that is already running). Each is a subprocess timed from start to exit:
   interpreter start, torch imports, sandbox start-up (the cluster's pools start cold: a fresh
   cluster per run) and every output file included. Both get the same ``DLBASICS_SEED``.
3. Throughput of both, the cluster's overhead per submission (the difference of the walls divided
   by N), and whether the two grades.csv are byte-identical (they must be).

``--repeat R`` runs each R times (alternating, local first) and uses the medians.
``--smoke``: N=8, one run of each (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import grade_speed  # noqa: E402  (bench/ is not a package; its class builder is reused as is)

from autograder.checks import get_assignment  # noqa: E402

SEED = "bench-cluster-speed"


def grade(assignment, submissions: Path, out: Path, n: int, extra: list[str]) -> float:
    """One ``dlbasics grade`` run from a fresh --out; its wall time in seconds."""
    if out.exists():
        shutil.rmtree(out)
    command = [str(grade_speed.DLBASICS), "grade", assignment.id, str(submissions), "--out", str(out), *extra]
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, timeout=7200,
                         env={**os.environ, "DLBASICS_SEED": SEED})
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {run.returncode}:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    match = re.search(r"graded (\d+), reused (\d+) unchanged", run.stdout)
    if not match or (int(match.group(1)), int(match.group(2))) != (n, 0):
        raise RuntimeError(f"did not grade all {n} afresh:\n{run.stdout[-2000:]}")
    return wall


def on_cluster(assignment, submissions: Path, out: Path, n: int, workers: int) -> float:
    from distributed import LocalCluster

    # A fresh cluster per run, so its sandbox pools start cold like the local run's workers.
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        return grade(assignment, submissions, out, n, ["--cluster", cluster.scheduler_address])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions (default 1000)")
    parser.add_argument("--assignment", default="01-linear-regression")
    parser.add_argument("--workers", type=int, default=2,
                        help="local --jobs, and the cluster's worker processes (1 thread each); default 2")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians are reported (default 1)")
    parser.add_argument("--smoke", action="store_true", help="N=8, one run of each")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.repeat = 8, 1
    assignment = get_assignment(args.assignment)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dlbasics-cluster-bench-") as tmp:
        tmp = Path(tmp)
        students = grade_speed.make_class(assignment, args.n)
        grade_speed.write_class(assignment, students, tmp / "submissions")
        local_walls, cluster_walls = [], []
        for _ in range(args.repeat):
            local_walls.append(grade(assignment, tmp / "submissions", tmp / "local", args.n,
                                     ["--jobs", str(args.workers)]))
            cluster_walls.append(on_cluster(assignment, tmp / "submissions", tmp / "cluster", args.n, args.workers))
        identical = (tmp / "local" / "grades.csv").read_bytes() == (tmp / "cluster" / "grades.csv").read_bytes()
    local, cluster = statistics.median(local_walls), statistics.median(cluster_walls)
    info = {
        "n": args.n, "assignment": assignment.id, "workers": args.workers, "repeat": args.repeat,
        "kinds": {kind: sum(1 for s in students if s.kind == kind) for kind in sorted({s.kind for s in students})},
        "local_walls": local_walls, "cluster_walls": cluster_walls,
        "local_throughput": args.n / local, "cluster_throughput": args.n / cluster,
        "overhead_ms_per_submission": 1000 * (cluster - local) / args.n,
        "grades_identical": identical, "machine": grade_speed.machine(), "load_after": os.getloadavg(),
        "seconds": time.perf_counter() - started,
    }
    print(f"class: {args.n} submissions of {assignment.id} ({', '.join(f'{v} {k}' for k, v in info['kinds'].items())})")
    print("| how | wall | throughput |\n| --- | --- | --- |")
    print(f"| local pool, --jobs {args.workers} | {local:.1f} s | {info['local_throughput']:.2f} submissions/s |")
    print(f"| LocalCluster, {args.workers} workers x 1 thread | {cluster:.1f} s | "
          f"{info['cluster_throughput']:.2f} submissions/s |")
    print(f"cluster overhead: {info['overhead_ms_per_submission']:+.1f} ms per submission; grades.csv "
          f"{'byte-identical' if identical else 'DIFFERENT'}; walls local {local_walls}, cluster {cluster_walls}; "
          f"load average after: {info['load_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=1))
    if not identical:
        raise SystemExit("the cluster's grades.csv differs from the local one")
    return info


if __name__ == "__main__":
    main()
