"""Every fault of the lab on one fleet, through the patch playbook: each host gets a clear result that names
it, no host restarts unless its plan or patch_unexpected_reboot=reboot says so, the restart waves still run
for the healthy hosts, and the report holds every host.

Fleet: fleets/host_faults.yml (February 2026, a hotpatch cycle). The expected result of each host is written
below; the ledger is the lab's own record of what the simulated hosts did.
"""

import re

import pytest

from tests.integration.faults.runs import FLEETS, patch_run, scenario

HOTPATCH_KB = "KB5075942"  # February 2026 hotpatch of Windows Server 2025

# host: (status in the report, pattern its message must match, restarts in the ledger)
EXPECTED = {
    "ok01": ("patched", rf"installed {HOTPATCH_KB} without a restart", 0),
    "unreach01": ("failed", r"^unreach01: .*(refused|unreachable)", 0),
    "badcred01": ("failed", r"^badcred01: .*credentials were rejected", 0),
    "http500-01": ("failed", r"^http500-01: .*(500|not available)", 0),
    "slow01": ("failed", r"^slow01: .*timed out", 0),
    "slow02": ("failed", r"^slow02: .*timed out", 0),
    "drop01": ("failed", r"^drop01: .*(aborted|closed|reset)", 0),
    "garbage01": ("failed", r"^garbage01: .*probe output is not JSON", 0),
    "oddbuild01": ("unchanged", r"not in the hotpatch catalog", 0),
    "imds01": (
        "unchanged",
        r"not patched: facts the decision needs could not be read.*timeout after 3 attempts",
        0,
    ),
    "imds02": ("patched", rf"installed {HOTPATCH_KB} without a restart", 0),
    "imdsonce01": ("patched", rf"installed {HOTPATCH_KB} without a restart", 0),
    "throttle01": ("patched", rf"installed {HOTPATCH_KB} without a restart", 0),
    "wmi01": ("unchanged", r"not patched: facts the decision needs could not be read.*wmi timeout", 0),
    "wmionce01": ("unchanged", r"not patched: facts the decision needs could not be read.*wmi timeout", 0),
    "wsus01": ("unchanged", r"WSUS approval missing\?.*http://wsus.lab.test:8530", 0),
    "azplat01": ("unchanged", r"not patched: Azure patches this VM itself", 0),
    "hpreboot01": ("restarted", rf"installed {HOTPATCH_KB}, restarted", 1),
    "hpdefer01": ("deferred", r"unexpected restart .*deferred by patch_unexpected_reboot=defer", 0),
    "hpfail01": ("failed", r"^hpfail01: .*unexpected restart.*patch_unexpected_reboot=fail", 0),
    "conv01": ("restarted", r"restarted", 1),
}
ASSESS_FAILURES = ["unreach01", "badcred01", "http500-01", "slow01", "slow02", "drop01", "garbage01"]


@scenario("host_faults", order=10)
def host_faults(work):
    return patch_run(FLEETS / "host_faults.yml", work)


@pytest.fixture(scope="module")
def run(lab_scenarios):
    return lab_scenarios.get("host_faults")


def test_fleet_covers_every_expectation(run):
    assert sorted(EXPECTED) == run.hosts


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_host_result(run, host):
    status, pattern, _ = EXPECTED[host]
    record = run.records[host]
    assert record["status"] == status, record["message"]
    assert re.search(pattern, record["message"], re.IGNORECASE), record["message"]


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_no_unintended_restart(run, host):
    assert run.restarts.get(host, 0) == EXPECTED[host][2], run.events(host, "restart_down")
    assert run.records[host]["restarted"] is (EXPECTED[host][2] > 0)


def test_assessment_failures_touch_nothing(run):
    for host in ASSESS_FAILURES:
        record = run.records[host]
        assert record["assessed"] is False and record["plan"]["reboot"] is False
        assert host not in run.installs, f"{host} had updates installed after its assessment failed"
        assert record["installed"] == [] and record["wave"] is None


def test_slow_host_is_cut_off_by_the_timeouts(run):
    # slow:5 answers every request after 5 s; read_timeout 2 s cuts it off instead of waiting
    assert "read timeout=2)" in run.records["slow01"]["message"]
    # ansible_winrm_connection_timeout 2 sets the read timeout to 12 s: slow:15 is cut off after it
    assert "read timeout=12)" in run.records["slow02"]["message"]


def test_unknown_build_is_left_alone(run):
    record = run.records["oddbuild01"]
    assert record["release_line"] == "unknown" and record["plan"]["reboot"] is False
    assert "oddbuild01" not in run.installs


def test_imds_timeout_is_facts_incomplete_never_regular_updates(run):
    # Instance Metadata that never answers on an Azure VM (the Azure VM agent is installed): the image cannot
    # be checked, so the host is facts_incomplete - neither patched nor restarted - and the report says why
    record = run.records["imds01"]
    assert record["eligible"] is False and record["platform"] == "azure"
    assert [reason["code"] for reason in record["reasons"]] == ["facts_incomplete"]
    assert record["plan"]["action"] == "none" and record["cause"]["code"] == "facts_incomplete"
    assert "imds01" not in run.installs and record["restarted"] is False
    # with hotpatch_platform and hotpatch_image set (what it could not read), the same host takes the hotpatch
    record = run.records["imds02"]
    assert record["eligible"] is True and record["platform"] == "azure" and record["action"] == "hotpatch"
    assert record["reboot_avoided"] is True


@pytest.mark.parametrize("host", ["imdsonce01", "throttle01", "wmi01", "wmionce01"])
def test_transient_read_failures_never_lead_to_a_restart(run, host):
    """A transient Instance Metadata or WMI failure never changes a host's plan to one that restarts it: the
    ledger shows no restart and no cumulative update; the Instance Metadata hosts took the month's hotpatch
    (the probe's retry answered), the WMI hosts nothing at all, with the cause in the report."""
    assert run.restarts.get(host, 0) == 0
    installs = run.events(host, "install")
    assert all(not event["restart"] for event in installs), installs
    record = run.records[host]
    assert record["plan"]["action"] in ("hotpatch", "none") and record["plan"]["reboot"] is False
    if host.startswith("wmi"):
        assert installs == [] and record["cause"]["code"] == "facts_incomplete"
        assert (
            "VirtualizationBasedSecurityStatus could not be read (wmi timeout)" in record["cause"]["message"]
        )
        assert "hotpatch_vbs_status" in record["cause"]["message"]
    else:
        assert [event["kb"] for event in installs] == [HOTPATCH_KB] and record["eligible"] is True
    probes = [e for e in run.events(host, "command") if e.get("what") == "probe"]
    first = probes[0]
    assert first.get("wmi" if host.startswith("wmi") else "imds"), first


def test_other_orchestrators_are_reported(run):
    # WSUS approved nothing: Windows Update offers nothing although the host lacks the month's hotpatch
    record = run.records["wsus01"]
    assert record["cause"]["code"] == "wsus_approval_missing" and "wsus01" not in run.installs
    assert any("AUOptions=4" in warning and "every day at 03:00" in warning for warning in record["warnings"])
    assert record["signals"]["update_source"] == "wsus" and record["signals"]["automatic_updates"] == (
        "scheduled_install"
    )
    # Azure patches this VM itself (hotpatch_azure_patch_mode): assessed and reported only, nothing installed
    record = run.records["azplat01"]
    assert record["cause"]["code"] == "azure_platform_orchestrated" and "azplat01" not in run.installs
    assert record["plan"]["action"] == "none"
    assert record["signals"]["azure_patch_mode"] == "AutomaticByPlatform"


def test_hotpatch_that_needs_a_restart(run):
    for host in ("hpreboot01", "hpdefer01", "hpfail01"):
        installs = run.events(host, "install")
        assert [e["kb"] for e in installs] == [HOTPATCH_KB] and installs[0]["restart"] is True
        plan = run.records[host]["plan"]
        assert (plan["action"], plan["reboot"]) == ("hotpatch", False)
    # patch_unexpected_reboot=reboot: restarted in a wave, and the build moved after the restart
    assert run.records["hpreboot01"]["wave"] is not None
    assert run.events("hpreboot01", "restart_up")[0]["build"] == "26100.32313"
    assert run.records["hpreboot01"]["reboot_avoided"] is False


def test_waves_ran_despite_failures_outside_waves(run):
    # patch_max_fail_percentage=0 counts failures within a wave; hosts that failed their assessment or their
    # no-restart install are in no wave, so the waves of the healthy hosts still run, one web host at a time
    waves = {run.records[host]["wave"] for host in ("hpreboot01", "conv01")}
    assert len(waves) == 2 and None not in waves
    assert run.max_down_per_group.get("web", 0) == 1
    assert not [
        r for r in run.records.values() if r["status"] == "not_reached" or "rollout stopped" in r["message"]
    ]


def test_report_holds_every_host(run):
    assert sorted(run.records) == run.hosts
    assert sorted(record["host"] for record in run.fleet["hosts"]) == run.hosts
    assert sorted(row["host"] for row in run.csv_rows) == run.hosts
    assert sorted(run.fleet["failed_hosts"]) == sorted(h for h, e in EXPECTED.items() if e[0] == "failed")


def test_playbook_fails_the_failed_hosts_without_traceback(run):
    assert run.proc.returncode == 2, run.output[-3000:]
    assert "Traceback" not in run.output
    for host, (status, _, _) in EXPECTED.items():
        failed = re.search(rf"fatal: \[{re.escape(host)}\]", run.proc.stdout) is not None
        assert failed is (status == "failed"), host
