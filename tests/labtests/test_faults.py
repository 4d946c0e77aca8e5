"""Each fault, as Ansible sees it: unreachable, auth failure, timeout, dropped connection, HTTP 500,
a restart that never ends, a hotpatch that wants a restart."""

import pytest

from tests.lab import Lab
from tests.labtests.helpers import run_playbook

FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "boot_seconds": 1,
    "hosts": {
        "ok01": {"os": "2025"},
        "unreach01": {"os": "2025", "faults": ["unreachable"]},
        "badcred01": {"os": "2025", "faults": ["bad_credentials"]},
        "slow01": {
            "os": "2025",
            "faults": ["slow:4"],
            "vars": {"ansible_winrm_operation_timeout_sec": 1, "ansible_winrm_read_timeout_sec": 2},
        },
        "drop01": {"os": "2025", "faults": ["drop_mid_command"]},
        "http500": {"os": "2025", "faults": ["http_500"]},
        "noreturn01": {"os": "2025", "faults": ["no_return_after_reboot"]},
        "hpreboot01": {"os": "2025", "faults": ["hotpatch_needs_reboot"]},
    },
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, main_bin):
    tmp = tmp_path_factory.mktemp("faults")
    tasks = [
        {"name": "ping", "ansible.windows.win_ping": {}},
        {
            "name": "restart that never ends",
            "ansible.windows.win_reboot": {"pre_reboot_delay": 0, "reboot_timeout": 6},
            "when": "inventory_hostname == 'noreturn01'",
        },
        {
            "name": "install the hotpatch",
            "ansible.windows.win_updates": {"category_names": ["SecurityUpdates"]},
            "when": "inventory_hostname == 'hpreboot01'",
        },
        {
            "name": "restart",
            "ansible.windows.win_reboot": {"pre_reboot_delay": 0},
            "when": "inventory_hostname == 'hpreboot01'",
        },
    ]
    with Lab(FLEET, tmp / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp, timeout=240, strategy="free")
        yield results, lab.ledger()


def test_healthy_host_unaffected(outcome):
    results, _ = outcome
    assert results["ok01"][0]["ping"] == "pong"


def test_unreachable(outcome):
    result = outcome[0]["unreach01"][0]
    assert result["unreachable"] is True
    assert "refused" in result["msg"].lower()


def test_bad_credentials(outcome):
    result = outcome[0]["badcred01"][0]
    assert result["unreachable"] is True
    assert "credentials were rejected" in result["msg"]


def test_slow_host_times_out(outcome):
    result = outcome[0]["slow01"][0]
    assert result.get("unreachable") is True
    assert "timed out" in result["msg"].lower()


def test_drop_mid_command(outcome):
    result = outcome[0]["drop01"][0]
    assert result.get("failed") or result.get("unreachable")
    assert (
        "aborted" in result["msg"].lower()
        or "closed" in result["msg"].lower()
        or "reset" in result["msg"].lower()
    )


def test_http_500(outcome):
    result = outcome[0]["http500"][0]
    assert result["unreachable"] is True
    assert "500" in result["msg"] or "not available" in result["msg"]


def test_restart_that_never_ends(outcome):
    results, ledger = outcome
    ping, reboot = results["noreturn01"][:2]
    assert ping["ping"] == "pong"
    assert reboot["failed"] is True and "Timed out waiting for last boot time check" in reboot["msg"]
    events = [
        e["event"] for e in ledger.events if e["host"] == "noreturn01" and e["event"].startswith("restart")
    ]
    assert events == ["restart_down"]


def test_hotpatch_needs_reboot(outcome):
    results, ledger = outcome
    _, _skipped, install, reboot = results["hpreboot01"]
    assert install["installed_update_count"] == 1 and install["reboot_required"] is True
    assert reboot["rebooted"] is True
    installs = [e for e in ledger.events if e["host"] == "hpreboot01" and e["event"] == "install"]
    assert installs[0]["restart"] is True and installs[0]["kb"] == "KB5075942"
    up = [e for e in ledger.events if e["host"] == "hpreboot01" and e["event"] == "restart_up"]
    assert up[0]["build"] == "26100.32313"
