"""The benchmarks of tests/perf still run on tiny sizes, so `make bench` never rots (no timing assertions)."""

import subprocess
import sys
from pathlib import Path

import yaml

PERF = Path(__file__).resolve().parent.parent / "perf"
REPO = PERF.parent.parent
sys.path.insert(0, str(PERF))

from bench_assess import recap, slowest_tasks  # noqa: E402
from bench_fleet import make_fleet, write_fleet  # noqa: E402

from tests.lab.fleet import load_fleet  # noqa: E402


def _run(script, *arguments):
    return subprocess.run(
        [sys.executable, str(PERF / script), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generated_fleet_is_a_valid_lab_fleet(tmp_path):
    path = write_fleet(25, tmp_path)
    fleet = load_fleet(path)
    assert len(fleet["hosts"]) == 25
    groups = {spec["vars"]["hotpatch_availability_group"] for spec in fleet["hosts"].values()}
    assert len(groups) == 10
    assert all(not spec["faults"] for spec in fleet["hosts"].values())
    assert yaml.safe_load(path.read_text())["date"] == make_fleet(1)["date"]


def test_recap_is_parsed_per_host():
    output = (
        "TASK [x] ***\nok: [a]\n\nPLAY RECAP *****\n"
        "a-0001   : ok=5    changed=0    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0\n"
        "b-0002   : ok=1    changed=0    unreachable=1    failed=0    skipped=0    rescued=1    ignored=0\n"
    )
    stats = recap(output)
    assert stats["a-0001"]["ok"] == 5
    assert stats["b-0002"]["unreachable"] == 1
    assert stats["b-0002"]["rescued"] == 1


def test_slowest_tasks_are_read_from_the_profile_recap():
    output = (
        "PLAY RECAP ***\n\nTASKS RECAP ***\nSaturday 21 November 2026  22:31:53 +0000 (0:00:00.242)\n"
        "=====\n"
        "role : Record the host's status and plan ------------ 37.43s\n"
        "role : A task whose long name leaves only two dashes of padding before its time -- 33.61s\n"
        "Write the fleet report on the controller -------------------------------- 0.26s\n"
    )
    assert slowest_tasks(output, 2) == [
        (37.43, "role : Record the host's status and plan"),
        (33.61, "role : A task whose long name leaves only two dashes of padding before its time"),
    ]
    assert slowest_tasks("PLAY RECAP ***\nweb : ok=1\n") == []


def test_filter_benchmark_runs_on_a_small_fleet():
    result = _run("bench_filters.py", "--hosts", "40", "--groups", "4", "--repeat", "1")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stdout + result.stderr
    lines = result.stdout.splitlines()
    verdicts = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert any("host_plan over 40 hosts" in line for line in verdicts), result.stdout
    assert sum("waves(" in line for line in verdicts) == 8, result.stdout
    assert any(line.startswith("info  waves(") for line in lines), result.stdout
    assert any(line.startswith("host_plan  plans:") for line in lines), result.stdout


def test_lab_capacity_benchmark_runs_on_two_hosts(tmp_path):
    result = _run("bench_lab.py", "--hosts", "2", "--workers", "2", "--rounds", "1", "--state", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lab capacity: 2 probe round trips (12 WinRM requests, 2 commands)" in result.stdout, result.stdout


def test_bad_sizes_are_refused_without_a_traceback():
    result = _run("bench_assess.py", "--hosts", "50,x")
    assert result.returncode == 2
    assert "expected comma-separated integers" in result.stderr
    assert "Traceback" not in result.stderr
