"""What the sandbox's worker has warmed up stays out of each child's garbage collections.

The worker imports torch, torch._dynamo and matplotlib once (about 330 000 objects) and forks a
child per submission. Unfrozen, a child's first full collection walked all of them (~140 ms) and,
by touching them, copied their pages from the worker: a class of 40 took 10.2-10.9 s instead of
7.4-7.9 s (docs/benchmarks.md, issue 21). The speed is measured in bench/, not here; this checks
that the freeze is in place, and the collector on, from inside a child, as a submission sees it.
"""

from __future__ import annotations

import re

import pytest

from autograder.sandbox.pool import Limits, Worker

PROBE = ("import gc\nraise RuntimeError(f'FROZEN {gc.get_freeze_count()} TRACKED {len(gc.get_objects())} "
         "ENABLED {gc.isenabled()}')\n")


def run_in_a_child(source: str) -> tuple[str, str]:
    """``source`` as a submission's setup cell in a new worker: the cells' messages, and what is
    known of the session (for an assertion's message)."""
    worker = Worker(Limits())
    try:
        session = worker.open([{"label": "setup", "source": source, "added": False}])
        session.close()
    finally:
        worker.stop()
    return " ".join(cell.get("message", "") for cell in session.cells), f"{session.cells} {session.ended_message}"


def test_a_child_does_not_collect_what_its_worker_warmed_up():
    message, seen = run_in_a_child(PROBE)
    found = re.search(r"FROZEN (\d+) TRACKED (\d+) ENABLED (\w+)", message)
    assert found, f"the probe did not report: {seen}"
    frozen, tracked = int(found.group(1)), int(found.group(2))
    # torch and matplotlib alone are far above 100 000 objects; what the child's collector still
    # walks is what the child made (a few thousand), not the worker's imports.
    assert frozen > 100_000 and tracked < frozen / 10, (frozen, tracked)
    # The worker warms up with the collector off: a submission must have it on, or every cycle it
    # makes stays until its memory limit ends it.
    assert found.group(3) == "True", "the collector is off in a submission's process"


FONT_PROBE = ("import matplotlib.font_manager as fm\n"
              "raise RuntimeError(f'MARKER {any(f.name == \"Dlbasics Marker\" for f in fm.fontManager.ttflist)}')\n")


@pytest.mark.parametrize("sandbox", ["auto", "rlimits"])  # bubblewrap binds the list; the reduced mode copies it
def test_a_worker_reads_the_graders_font_list_instead_of_scanning_every_font(sandbox, tmp_path, monkeypatch):
    # The grader's matplotlib font list (where its MPLCONFIGDIR says), with one font renamed: a worker
    # whose matplotlib read that list, rather than scanning the fonts in its empty cache folder (0.15 s
    # of its start, autograder/fontcache.py), knows the made-up name; so does every child it forks.
    import dataclasses

    import matplotlib.font_manager as fm

    lent = fm.FontManager.__new__(fm.FontManager)
    lent.__dict__.update(fm.fontManager.__dict__)
    lent.ttflist = [dataclasses.replace(fm.fontManager.ttflist[0], name="Dlbasics Marker"),
                    *fm.fontManager.ttflist[1:]]
    cache = tmp_path / "grader-matplotlib"
    cache.mkdir()
    fm.json_dump(lent, cache / f"fontlist-v{fm.FontManager.__version__}.json")
    monkeypatch.setenv("MPLCONFIGDIR", str(cache))
    monkeypatch.setenv("DLBASICS_SANDBOX", sandbox)
    message, seen = run_in_a_child(FONT_PROBE)
    assert "MARKER True" in message, seen
