"""Microsoft's removal path over real WinRM: DISM /Get-Packages names the combined cumulative update's
package, DISM /Remove-Package removes it (CBS RebootPending, the build goes back at the restart), wusa
/uninstall does not work on it, the servicing stack cannot be removed, and ansible.windows.win_hotfix behaves
as its PowerShell does: by KB it cannot find a Package_for_RollupFix package, by identifier it removes it."""

import pytest

from tests.lab import Lab
from tests.labtests.helpers import run_playbook

CBS_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
FLEET = {
    "date": "2026-03-11T08:00:00Z",
    "boot_seconds": 0.5,
    "windows_update": {"defender": False, "msrt": False, "dotnet": False, "preview": False},
    "hosts": {
        # on February's hotpatch (the January baseline under it)
        "hp01": {"os": "2025", "build": "26100.32313"},
        # not hotpatch-capable, on February's regular cumulative update
        "lcu01": {"os": "2025", "vbs": "off", "build": "26100.32370", "hotfixes": ["KB5075899"]},
    },
}
PACKAGE = r"{{ packages.stdout | regex_search('Package_for_RollupFix~\S+~~26100\.' ~ ubr ~ '\.\S+') }}"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, main_bin):
    tmp = tmp_path_factory.mktemp("rollback")
    tasks = [
        {
            "name": "list packages",
            "ansible.windows.win_command": {"cmd": "dism.exe /online /get-packages"},
            "register": "packages",
        },
        {
            "name": "the update's package",
            "ansible.builtin.set_fact": {
                "package": PACKAGE,
                "ssu": r"{{ packages.stdout | regex_search('Package_for_ServicingStack\S+') }}",
            },
            "vars": {"ubr": "{{ '32313' if inventory_hostname == 'hp01' else '32370' }}"},
        },
        {
            "name": "win_hotfix by KB",
            "ansible.windows.win_hotfix": {
                "hotfix_kb": "{{ 'KB5075942' if inventory_hostname == 'hp01' else 'KB5075899' }}",
                "state": "absent",
            },
            "ignore_errors": True,
        },
        {
            "name": "wusa on the combined package",
            "ansible.windows.win_command": {"cmd": "wusa.exe /uninstall /kb:{{ kb }} /quiet /norestart"},
            "vars": {"kb": "{{ '5075942' if inventory_hostname == 'hp01' else '5075899' }}"},
            "ignore_errors": True,
        },
        {
            "name": "the servicing stack",
            "ansible.windows.win_command": {
                "cmd": "dism.exe /online /remove-package /packagename:{{ ssu }} /norestart"
            },
            "ignore_errors": True,
        },
        {
            "name": "remove with DISM",
            "ansible.windows.win_command": {
                "cmd": "dism.exe /online /remove-package /packagename:{{ package }} /norestart"
            },
            "register": "removed",
            "failed_when": "removed.rc not in [0, 3010]",
            "when": "inventory_hostname == 'hp01'",
        },
        {
            "name": "remove with win_hotfix by identifier",
            "ansible.windows.win_hotfix": {"hotfix_identifier": "{{ package }}", "state": "absent"},
            "when": "inventory_hostname == 'lcu01'",
        },
        {"name": "pending", "ansible.windows.win_reg_stat": {"path": CBS_KEY}},
        {"name": "restart", "ansible.windows.win_reboot": {"pre_reboot_delay": 0}},
        {"name": "list again", "ansible.windows.win_command": {"cmd": "dism.exe /online /get-packages"}},
        {"name": "search", "ansible.windows.win_updates": {"state": "searched"}},
    ]
    with Lab(FLEET, tmp / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp, timeout=300, strategy="free")
        yield results, lab.ledger(), lab.state()


def test_dism_names_the_packages(outcome):
    results, _, _ = outcome
    listing = results["hp01"][0]["stdout"]
    assert "Deployment Image Servicing and Management tool" in listing and "Packages listing:" in listing
    assert "Package Identity : Package_for_RollupFix~31bf3856ad364e35~amd64~~26100.32313." in listing
    assert "State : Superseded" in listing  # the January baseline under the hotpatch
    assert results["hp01"][1]["ansible_facts"]["package"].startswith("Package_for_RollupFix~")


def test_win_hotfix_by_kb_cannot_find_the_combined_package(outcome):
    for host in ("hp01", "lcu01"):
        result = outcome[0][host][2]
        assert result["failed"] and "failed to get DISM package from KB" in result["msg"], result


def test_wusa_does_not_remove_the_combined_package(outcome):
    for host in ("hp01", "lcu01"):
        result = outcome[0][host][3]
        assert result["rc"] != 0 and result["rc"] != 3010


def test_servicing_stack_cannot_be_removed(outcome):
    result = outcome[0]["hp01"][4]
    assert result["rc"] != 0 and "0x800f0825" in result["stdout"]


def test_removal_sets_cbs_and_the_restart_moves_the_build_back(outcome):
    results, ledger, state = outcome
    assert (
        results["hp01"][5]["rc"] == 3010
        and "Restart Windows to complete this operation." in results["hp01"][5]["stdout"]
    )
    assert results["lcu01"][6]["changed"] and results["lcu01"][6]["reboot_required"]
    for host in ("hp01", "lcu01"):
        assert results[host][7]["exists"] is True  # CBS RebootPending
        assert results[host][8]["rebooted"] is True
    assert state["hp01"]["build"] == "26100.32230" and "KB5075942" not in state["hp01"]["hotfixes"]
    assert state["lcu01"]["build"] == "26100.32230" and "KB5075899" not in state["lcu01"]["hotfixes"]
    assert ledger.uninstalls() == {"hp01": ["KB5075942"], "lcu01": ["KB5075899"]}
    assert ledger.restarts() == {"hp01": 1, "lcu01": 1}
    # back on the January baseline, the hotpatch host is offered March's hotpatch again, the other March's LCU
    assert [u["kb"] for u in results["hp01"][10]["updates"].values()] == [["5078736"]]
    assert [u["kb"] for u in results["lcu01"][10]["updates"].values()] == [["5078740"]]
