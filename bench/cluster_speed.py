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
4. The CPU time of each run outside the sandboxes: the grader process (reading, hashing, the
   checks' reference computations, the gradebook, every output), and for the cluster also the Dask
   worker processes (which run the checks there) and the scheduler and nannies (which run in this
   script's process), less what the Dask workers spent starting before the run. The sandboxed
   workers and the student code they run are not in it (they are reaped inside their own pid
   namespace, so ``getrusage`` never sees them): that work is the same either way. On a machine
   shared with other jobs the walls move with their load, CPU seconds much less: the CPU overhead
   per submission is the steadier figure of what the cluster's machinery costs.

``--repeat R`` runs each R times (alternating, local first) and uses the medians.
``--smoke``: N=8, one run of each (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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


def cpu_seconds() -> float:
    """User + system seconds of this process and of all its children that have ended (see 4.)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _worker_cpu() -> float:
    """Run on a Dask worker: what its process has used so far (its start-up, before any grading)."""
    times = os.times()
    return times.user + times.system


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


def locally(assignment, submissions: Path, out: Path, n: int, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``dlbasics grade --jobs W``."""
    cpu = cpu_seconds()
    wall = grade(assignment, submissions, out, n, ["--jobs", str(workers)])
    return wall, cpu_seconds() - cpu


def on_cluster(assignment, submissions: Path, out: Path, n: int, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``dlbasics grade --cluster`` on a fresh LocalCluster (its start-up excluded)."""
    from distributed import Client, LocalCluster

    # A fresh cluster per run, so its sandbox pools start cold like the local run's workers.
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        with Client(cluster) as client:
            started_cpu = sum(client.run(_worker_cpu).values())
        cpu = cpu_seconds()
        wall = grade(assignment, submissions, out, n, ["--cluster", cluster.scheduler_address])
    # The Dask workers' CPU is counted once they have ended (cluster closed), start-up included.
    return wall, cpu_seconds() - cpu - started_cpu


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
        local_walls, cluster_walls, local_cpus, cluster_cpus = [], [], [], []
        for _ in range(args.repeat):
            wall, cpu = locally(assignment, tmp / "submissions", tmp / "local", args.n, args.workers)
            local_walls.append(wall)
            local_cpus.append(cpu)
            wall, cpu = on_cluster(assignment, tmp / "submissions", tmp / "cluster", args.n, args.workers)
            cluster_walls.append(wall)
            cluster_cpus.append(cpu)
        identical = (tmp / "local" / "grades.csv").read_bytes() == (tmp / "cluster" / "grades.csv").read_bytes()
    local, cluster = statistics.median(local_walls), statistics.median(cluster_walls)
    local_cpu, cluster_cpu = statistics.median(local_cpus), statistics.median(cluster_cpus)
    info = {
        "n": args.n, "assignment": assignment.id, "workers": args.workers, "repeat": args.repeat,
        "kinds": {kind: sum(1 for s in students if s.kind == kind) for kind in sorted({s.kind for s in students})},
        "local_walls": local_walls, "cluster_walls": cluster_walls,
        "local_throughput": args.n / local, "cluster_throughput": args.n / cluster,
        "overhead_ms_per_submission": 1000 * (cluster - local) / args.n,
        "local_cpus": local_cpus, "cluster_cpus": cluster_cpus,
        "local_cpu_ms_per_submission": 1000 * local_cpu / args.n,
        "cluster_cpu_ms_per_submission": 1000 * cluster_cpu / args.n,
        "cpu_overhead_ms_per_submission": 1000 * (cluster_cpu - local_cpu) / args.n,
        "grades_identical": identical, "machine": grade_speed.machine(), "load_after": os.getloadavg(),
        "seconds": time.perf_counter() - started,
    }
    print(f"class: {args.n} submissions of {assignment.id} ({', '.join(f'{v} {k}' for k, v in info['kinds'].items())})")
    print("| how | wall | throughput | CPU outside the sandboxes, per submission |\n| --- | --- | --- | --- |")
    print(f"| local pool, --jobs {args.workers} | {local:.1f} s | {info['local_throughput']:.2f} submissions/s | "
          f"{info['local_cpu_ms_per_submission']:.0f} ms |")
    print(f"| LocalCluster, {args.workers} workers x 1 thread | {cluster:.1f} s | "
          f"{info['cluster_throughput']:.2f} submissions/s | {info['cluster_cpu_ms_per_submission']:.0f} ms |")
    print(f"cluster overhead: {info['overhead_ms_per_submission']:+.1f} ms wall and "
          f"{info['cpu_overhead_ms_per_submission']:+.1f} ms CPU per submission; grades.csv "
          f"{'byte-identical' if identical else 'DIFFERENT'}; walls local {local_walls}, cluster {cluster_walls}; "
          f"CPU s local {local_cpus}, cluster {cluster_cpus}; "
          f"load average after: {info['load_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=1))
    if not identical:
        raise SystemExit("the cluster's grades.csv differs from the local one")
    return info


if __name__ == "__main__":
    main()
