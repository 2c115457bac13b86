"""The benchmark runs (at a tiny N, without nbgrader): a smoke check, not a timed test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograder.checks import KIT_ROOT

pytestmark = pytest.mark.slow


def test_benchmark_smoke_run_reports_every_figure(tmp_path):
    report = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "bench/grade_speed.py", "--smoke", "--json", str(report)],
                            cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    info = json.loads(report.read_text())
    assert info["n"] == 4 and info["dlbasics"]["throughput"] > 0 and info["dlbasics"]["peak_rss"] > 0
    assert info["selfcheck"] and info["cold_check"] and info["floor"]["n"] > 0
    assert "targets:" in result.stdout
