"""The other ansible.windows modules the lab answers, and what it does with anything else."""

import pytest

from tests.lab import Lab
from tests.labtests.helpers import run_playbook

CBS_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
SESSION_MANAGER = r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager"
FLEET = {
    "date": "2026-03-11T08:00:00Z",  # the March 2026 cycle opened on 2026-03-10
    "boot_seconds": 1,
    "hosts": {
        "pending01": {"os": "2025", "platform": "arc", "reboot_pending": ["cbs", "file_rename"]},
        "clean01": {"os": "2025", "platform": "azure", "build": "26100.32463", "hotfixes": ["KB5078736"]},
    },
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, main_bin):
    tmp = tmp_path_factory.mktemp("modules")
    tasks = [
        {"ansible.windows.win_reg_stat": {"path": CBS_KEY}},
        {"ansible.windows.win_reg_stat": {"path": WU_KEY}},
        {"ansible.windows.win_reg_stat": {"path": SESSION_MANAGER, "name": "PendingFileRenameOperations"}},
        {"ansible.windows.win_service_info": {"name": "himds"}},
        {"ansible.windows.win_wait_for": {"port": 5985, "timeout": 2}},
        {"ansible.windows.win_wait_for": {"port": 8443, "timeout": 1}, "ignore_errors": True},
        {"ansible.windows.win_package": {"path": "C:\\x.msi"}, "ignore_errors": True},
        {"ansible.builtin.raw": "Get-WindowsFeature Web-Server", "ignore_errors": True},
        {
            "ansible.windows.win_hotfix": {"hotfix_kb": "KB5078736", "state": "absent"},
            "when": "inventory_hostname == 'clean01'",
        },
        {"ansible.windows.win_reboot": {"pre_reboot_delay": 0}, "when": "inventory_hostname == 'clean01'"},
        {"ansible.windows.win_updates": {"state": "searched"}, "when": "inventory_hostname == 'clean01'"},
    ]
    with Lab(FLEET, tmp / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp, timeout=240, strategy="free")
        yield results, lab.ledger()


def test_reg_stat_shows_pending_restarts(outcome):
    pending = outcome[0]["pending01"]
    clean = outcome[0]["clean01"]
    assert [r["exists"] for r in pending[:3]] == [True, False, True]
    assert [r["exists"] for r in clean[:3]] == [False, False, False]


def test_service_info_shows_arc_agent(outcome):
    assert outcome[0]["pending01"][3]["services"][0]["state"] == "started"
    assert outcome[0]["clean01"][3]["exists"] is False


def test_wait_for_ports(outcome):
    open_port, closed_port = outcome[0]["pending01"][4:6]
    assert not open_port.get("failed")
    assert closed_port["failed"] is True and "8443" in closed_port["msg"]


def test_unknown_module_and_command_fail_naming_them(outcome):
    module, raw = outcome[0]["pending01"][6:8]
    assert module["failed"] is True and "ansible.windows.win_package" in str(module)
    assert raw["rc"] != 0 and "Get-WindowsFeature" in raw["stderr"]


def test_hotfix_uninstall_then_restart_reverts_the_build(outcome):
    results, ledger = outcome
    uninstall, reboot, search = results["clean01"][8:11]
    assert uninstall["changed"] is True and uninstall["reboot_required"] is True
    assert reboot["rebooted"] is True
    assert ledger.uninstalls() == {"clean01": ["KB5078736"]}
    up = [e for e in ledger.events if e["event"] == "restart_up" and e["host"] == "clean01"]
    assert up[0]["build"] == "26100.32313"  # back on February's hotpatch
    # uninstalled, the March hotpatch is offered again
    assert any("KB5078736" in u["title"] for u in search["updates"].values())
