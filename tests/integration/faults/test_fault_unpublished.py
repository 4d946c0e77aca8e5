"""A month the shipped catalog has not published (August 2026; fleets/unpublished.yml): the collection never
invents a KB or a build, installs only a hotpatch (no restart) on a host whose build it cannot place, and
restarts only the host whose plan says it must catch up with a baseline."""

import pytest

from tests.integration.faults.runs import FLEETS, patch_run, scenario


@scenario("unpublished")
def unpublished(work):
    return patch_run(FLEETS / "unpublished.yml", work)


@pytest.fixture(scope="module")
def run(lab_scenarios):
    return lab_scenarios.get("unpublished")


def test_cycle_is_unpublished_and_no_kb_is_invented(run):
    for host in ("future01", "future02"):
        cycle = run.records[host]["cycle"]
        assert cycle["month"] == "2026-08" and cycle["type"] == "hotpatch"
        assert cycle["kb"] is None


def test_unknown_build_gets_only_a_hotpatch_without_restart(run):
    record = run.records["future01"]
    assert record["release_line"] == "unknown" and record["current"]["kb"] is None
    assert record["plan"]["action"] == "hotpatch" and record["plan"]["reboot"] is False
    assert any("not in the hotpatch catalog" in reason for reason in record["plan"]["reasons"])
    assert record["status"] == "patched" and record["restarted"] is False
    assert record["build_after"] != record["build_before"]
    assert run.restarts.get("future01", 0) == 0
    assert [e["restart"] for e in run.events("future01", "install")] == [False]


def test_host_off_its_baseline_catches_up_with_a_restart(run):
    record = run.records["future02"]
    assert record["current"]["month"] == "2026-05"
    assert record["plan"]["action"] == "baseline" and record["plan"]["reboot"] is True
    assert record["status"] == "restarted" and run.restarts == {"future02": 1}


def test_report_and_result(run):
    assert sorted(run.records) == run.hosts
    assert run.proc.returncode == 0, run.output[-3000:]
    assert "Traceback" not in run.output
