"""Restart truth, end to end: `ansible-playbook hotpatch.windows.patch` on the lab's restart-truth fleets
(tests/lab/fleets/restart_truth/, written from Microsoft's published behaviour), asserting on what the lab
recorded - restarts, installs - and on the report's reasons.

The lab decides what Windows Update offers from each host's state and the date and sets the restart flags
from what was installed; it knows nothing of the collection. So each assertion below is Microsoft's behaviour
as the lab models it, and the collection has to match it: a host restarts only when Windows needs it, and no
security update offered is left behind without a report line.
"""

import copy
from pathlib import Path

import pytest
import yaml

from tests.integration.faults.runs import patch_run, scenario

FLEETS = Path(__file__).resolve().parents[1] / "lab" / "fleets" / "restart_truth"
OS_KINDS = {"hotpatch", "lcu", "baseline", "oob", "oob_hotpatch"}


def fleet(name, **windows_update):
    """A restart-truth fleet with its windows_update block changed (no .NET update, to isolate a case)."""
    data = yaml.safe_load((FLEETS / name).read_text())
    data["windows_update"] = dict(copy.deepcopy(data.get("windows_update") or {}), **windows_update)
    return data


@scenario("truth_feb", order=20)
def truth_feb(work):
    return patch_run(FLEETS / "2026-02-hotpatch-month.yml", work, {"patch_batch_size": 2})


@scenario("truth_feb_quiet", order=20)
def truth_feb_quiet(work):
    """The same hosts in a February without a .NET security update: nothing but the noise to restart for."""
    return patch_run(fleet("2026-02-hotpatch-month.yml", dotnet=False), work, {"patch_batch_size": 2})


@scenario("truth_same_build", order=40)
def truth_same_build(work):
    return patch_run(FLEETS / "2025-11-same-build.yml", work, {"patch_batch_size": 2})


@scenario("truth_oob", order=40)
def truth_oob(work):
    return patch_run(FLEETS / "2026-05-out-of-band.yml", work, {"patch_batch_size": 2})


@scenario("truth_after_table", order=40)
def truth_after_table(work):
    """July 2026, past the catalog, without a .NET update: Defender is always offered, nothing else."""
    return patch_run(fleet("2026-07-after-the-table.yml", dotnet=False), work, {"patch_batch_size": 2})


@scenario("truth_unplanned", order=40)
def truth_unplanned(work):
    return patch_run(FLEETS / "2026-08-unplanned-baseline.yml", work, {"patch_batch_size": 2})


@pytest.fixture(scope="module")
def runs(lab_scenarios):
    names = (
        "truth_feb",
        "truth_feb_quiet",
        "truth_same_build",
        "truth_oob",
        "truth_after_table",
        "truth_unplanned",
    )
    return {name: lab_scenarios.get(name) for name in names}


def kinds(run, host):
    """The kinds of the OS releases (hotpatch, lcu, baseline, oob) the lab recorded as installed."""
    return [e.get("kind") for e in run.events(host, "install") if e.get("kind") in OS_KINDS]


def all_kinds(run, host):
    return sorted(e.get("kind") for e in run.events(host, "install"))


def needed(run, host):
    """Whether the lab recorded an install that set Windows' restart flags on the host."""
    return any(e.get("restart") for e in run.events(host, "install"))


def restarts(run, host):
    return run.restarts.get(host, 0)


def test_every_run_succeeds_and_reports_every_host(runs):
    for name, run in runs.items():
        assert run.proc.returncode == 0, f"{name}:\n{run.output[-4000:]}"
        assert sorted(run.records) == run.hosts, name
        assert "Traceback" not in run.output


def test_security_agent_file_renames_never_restart(runs):
    """PendingFileRenameOperations (an agent refills it) is reported, never a restart."""
    run = runs["truth_feb_quiet"]
    assert restarts(run, "agent01") == 0
    assert kinds(run, "agent01") == ["hotpatch"] and not needed(run, "agent01")
    record = run.records["agent01"]
    assert record["status"] == "patched" and record["reboot_avoided"] is True
    signals = [item["signal"] for item in record["restart"]["ignored"]]
    assert "file_rename" in signals, record["restart"]


def test_dotnet_security_update_is_installed_in_a_hotpatch_month_and_restarts_on_evidence(runs):
    """Microsoft: updates outside the hotpatch programme (.NET) install in hotpatch months, and restart."""
    run = runs["truth_feb"]
    assert kinds(run, "dotnet01") == ["hotpatch"] and "dotnet" in all_kinds(run, "dotnet01")
    assert needed(run, "dotnet01") and restarts(run, "dotnet01") == 1
    record = run.records["dotnet01"]
    assert record["status"] == "restarted"
    assert record["restart"]["needed"] is False  # cleared by its restart
    assert "restarted" in record["message"]


@pytest.mark.parametrize("host", ["lapsed01", "unenrolled01"])
def test_lcu_offered_instead_of_the_hotpatch_is_installed_and_restarts(runs, host):
    """A lapsed Arc licence or lost enrolment: the LCU is offered; Microsoft installs it (a restart)."""
    run = runs["truth_feb"]
    assert kinds(run, host) == ["lcu"]
    assert restarts(run, host) == 1
    record = run.records[host]
    assert record["status"] == "restarted"
    assert (record["cause"] or {}).get("code") == "hotpatch_line_lost", record["cause"]


def test_host_already_on_the_months_lcu_is_left_alone(runs):
    run = runs["truth_feb_quiet"]
    assert restarts(run, "lcudone01") == 0
    assert kinds(run, "lcudone01") == []


def test_drivers_are_opt_in_and_reported(runs):
    """A network driver install drops WinRM; drivers are opt-in, so the host hotpatches and the report lists
    the driver as skipped."""
    run = runs["truth_feb_quiet"]
    assert kinds(run, "drivers01") == ["hotpatch"]
    assert restarts(run, "drivers01") == 0 and "driver" not in all_kinds(run, "drivers01")
    assert not run.events("drivers01", "network_down")
    skipped = [item for item in run.records["drivers01"]["deferred"] if item["decision"] == "skip"]
    assert any("Net" in item["title"] for item in skipped), run.records["drivers01"]["deferred"]


def test_pending_computer_rename_is_reported_not_restarted(runs):
    run = runs["truth_feb_quiet"]
    assert restarts(run, "rename01") == 0
    ignored = [item["signal"] for item in run.records["rename01"]["restart"]["ignored"]]
    assert "computer_rename" in ignored


def test_no_restart_without_windows_evidence_across_the_fleet(runs):
    """Every restart the ledger shows followed an install that set Windows' restart flags (the suite's
    restart-safety check judges every lab run the same way, tests/integration/restart_safety.py)."""
    for name, run in runs.items():
        for host in run.hosts:
            assert restarts(run, host) == (1 if needed(run, host) else 0), (name, host, all_kinds(run, host))


def test_same_build_different_line_follows_the_installed_kb(runs):
    """October 2025: KB5070881 and KB5070893 are both 26100.6905; only the KB tells the line."""
    run = runs["truth_same_build"]
    assert kinds(run, "kb881") == ["lcu"] and restarts(run, "kb881") == 1
    assert kinds(run, "kb893") == ["hotpatch"] and restarts(run, "kb893") == 0
    assert run.records["kb893"]["release_line"] == "hotpatch"
    assert run.records["kb881"]["release_line"] == "lcu"


def test_out_of_band_release_moves_the_host_off_the_line(runs):
    run = runs["truth_oob"]
    assert kinds(run, "oob01") == ["lcu"] and restarts(run, "oob01") == 1
    assert kinds(run, "baseline01") == ["hotpatch"] and restarts(run, "baseline01") == 0


def test_baseline_month_past_the_catalog(runs):
    """July 2026, after the last published row: the host that has the baseline only takes Defender (no
    restart); the host behind takes the baseline (one restart)."""
    run = runs["truth_after_table"]
    assert restarts(run, "done01") == 0
    assert kinds(run, "done01") == [] and "defender" in all_kinds(run, "done01")
    assert kinds(run, "behind01") and restarts(run, "behind01") == 1
    assert run.records["done01"]["cycle"]["kb"] is None  # never invented


def test_unplanned_baseline_not_in_the_catalog(runs):
    run = runs["truth_unplanned"]
    for host in ("enrolled25", "enrolled22"):
        assert restarts(run, host) == 1, host
        record = run.records[host]
        assert (record["cause"] or {}).get("code") == "unplanned_baseline_suspected", record["cause"]


def test_every_offered_security_update_is_installed_or_reported(runs):
    """No security update offered is left behind without a report line."""
    for name, run in runs.items():
        for host, record in run.records.items():
            plan = record.get("plan") or {}
            deferred = {item["title"] for item in record.get("deferred") or []}
            for update in plan.get("updates") or []:
                if not update.get("security") or update.get("decision") == "install":
                    continue
                assert update.get("covered_by") or update["title"] in deferred, (name, host, update)
