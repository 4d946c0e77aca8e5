"""The realistic Windows Update model through the real ansible.windows.win_updates: the offer a hotpatch month
makes with Defender, MSRT, .NET and an optional preview; the fields Windows reports for each update; the
restart flags after the install (win_updates' reboot_required, the Windows Update and CBS keys)."""

import pytest

from tests.lab import Lab
from tests.labtests.helpers import run_playbook

CBS_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
FLEET = {
    "date": "2026-03-25T08:00:00Z",  # the March cycle, after its fourth Tuesday (the optional preview)
    "windows_update": {"dotnet": {"months": [1, 4, 7, 10], "extra": ["2026-03"]}},
    "hosts": {
        "hp01": {"os": "2025", "hotpatch_title": "simplified"},
        "plain01": {"os": "2022", "platform": "on_premises"},
    },
}
SEARCH = {"ansible.windows.win_updates": {"state": "searched", "category_names": ["*"]}}
INSTALL = {
    "ansible.windows.win_updates": {
        "category_names": [
            "SecurityUpdates",
            "CriticalUpdates",
            "UpdateRollups",
            "DefinitionUpdates",
            "Updates",
        ],
        "skip_optional": True,
    }
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, main_bin):
    tmp = tmp_path_factory.mktemp("realistic")
    tasks = [
        SEARCH,
        INSTALL,
        {"ansible.windows.win_reg_stat": {"path": WU_KEY}},
        {"ansible.windows.win_reg_stat": {"path": CBS_KEY}},
        SEARCH,
    ]
    with Lab(FLEET, tmp / "lab") as lab:
        yield run_playbook(main_bin, lab.inventory, tasks, tmp), lab.ledger()


def by_kind(result) -> dict:
    found = {}
    for update in list(result["updates"].values()) + list(result["filtered_updates"].values()):
        title = update["title"]
        kind = (
            "defender"
            if "Defender" in title
            else "msrt"
            if "Malicious" in title
            else "dotnet"
            if ".NET" in title
            else "preview"
            if "Preview" in title
            else "os"
        )
        found[kind] = update
    return found


def test_a_hotpatch_month_offer(outcome):
    results, _ = outcome
    hp = by_kind(results["hp01"][0])
    assert set(hp) == {"os", "defender", "msrt", "dotnet", "preview"}
    assert (
        hp["os"]["kb"] == ["5078736"]
        and hp["os"]["title"] == "2026-03 Security Update (KB5078736) (26100.32463)"
    )
    assert hp["defender"]["categories"] == ["Definition Updates", "Microsoft Defender Antivirus"]
    assert hp["msrt"]["kb"] == ["890830"] and hp["msrt"]["categories"][0] == "Update Rollups"
    assert hp["dotnet"]["categories"][0] == "Security Updates"
    assert hp["preview"]["categories"][0] == "Updates"
    plain = by_kind(results["plain01"][0])
    assert plain["os"]["kb"] == ["5078766"]  # 2022's March cumulative update
    assert "Microsoft server operating system version 21H2" in plain["os"]["title"]


def test_installs_and_restart_flags(outcome):
    results, ledger = outcome
    for host in ("hp01", "plain01"):
        install, wu_key, cbs_key, again = results[host][1:5]
        assert install["installed_update_count"] == 4, install  # OS update, Defender, MSRT, .NET
        assert [u["filtered_reasons"] for u in install["filtered_updates"].values()] == [["skip_optional"]]
        assert install["reboot_required"] is True  # .NET (and on plain01 the cumulative update)
        assert wu_key["exists"] is True and cbs_key["exists"] is True
        assert [u["title"] for u in again["updates"].values() if "Preview" in u["title"]]
        assert again["found_update_count"] == 1  # only the optional preview is left
    installs = {(i["host"], i["kind"]): i for i in ledger.timed_installs()}
    assert (
        installs[("hp01", "hotpatch")]["restart"] is False and installs[("hp01", "dotnet")]["restart"] is True
    )
    assert installs[("plain01", "lcu")]["restart"] is True
    assert installs[("hp01", "defender")]["classification"] == "Definition Updates"
