"""The restart-truth issue's cases as lab scenarios (tests/lab/fleets/restart_truth/): each fleet starts, and
the lab offers and flags what Microsoft documents for each case, read over WinRM (the collection's probe
fragment and win_updates) and from the lab's own state."""

import json
import re

import pytest

from tests.lab import Lab
from tests.labtests.helpers import FLEETS, run_playbook
from tests.labtests.test_wire import run_probe, session

TRUTH = FLEETS / "restart_truth"
SEARCH = {"ansible.windows.win_updates": {"state": "searched", "category_names": ["*"]}}


def offered(state: dict, host: str) -> dict:
    return {u["kind"]: u for u in state[host]["offered"]}


def os_kb(state: dict, host: str):
    kinds = offered(state, host)
    for kind in ("hotpatch", "oob_hotpatch", "baseline", "lcu", "oob"):
        if kind in kinds:
            return kinds[kind]["kb"], kind
    return None, None


def test_february_hotpatch_month(tmp_path, main_bin):
    with Lab(TRUTH / "2026-02-hotpatch-month.yml", tmp_path / "lab") as lab:
        state = lab.state()
        assert os_kb(state, "agent01") == ("KB5075942", "hotpatch")
        assert offered(state, "dotnet01")["dotnet"]["reboot"] is True
        assert os_kb(state, "lapsed01") == ("KB5075899", "lcu") and not state["lapsed01"]["licence_valid"]
        assert os_kb(state, "unenrolled01") == ("KB5075899", "lcu")
        assert os_kb(state, "lcudone01") == (None, None)
        assert "driver" in offered(state, "drivers01")
        assert os_kb(state, "rollback01") == (None, None)
        agent = json.loads(run_probe(session(lab, "agent01"))[0])
        assert agent["reboot_pending"] == {
            "cbs": False,
            "windows_update": False,
            "file_rename": True,
            "computer_rename": False,
        }
        rename = json.loads(run_probe(session(lab, "rename01"))[0])
        assert rename["reboot_pending"]["computer_rename"] is True
        results = run_playbook(main_bin, lab.inventory, [SEARCH], tmp_path, hosts="lapsed01:lcudone01")
        lapsed = [u["title"] for u in results["lapsed01"][0]["updates"].values()]
        assert "2026-02 Security Update (KB5075899) (26100.32370)" in lapsed
        assert not [
            t for t in (u["title"] for u in results["lcudone01"][0]["updates"].values()) if "KB50" in t
        ]


@pytest.mark.parametrize(
    ("fleet", "expected"),
    [
        ("2025-11-same-build.yml", {"kb881": ("KB5068861", "lcu"), "kb893": ("KB5068966", "hotpatch")}),
        ("2026-05-out-of-band.yml", {"oob01": ("KB5087539", "lcu"), "baseline01": ("KB5087423", "hotpatch")}),
        (
            "2026-08-unplanned-baseline.yml",
            {"enrolled25": (None, "baseline"), "enrolled22": (None, "baseline")},
        ),
    ],
)
def test_which_release_windows_update_offers(tmp_path, fleet, expected):
    with Lab(TRUTH / fleet, tmp_path / "lab") as lab:
        state = lab.state()
    for host, (kb, kind) in expected.items():
        found_kb, found_kind = os_kb(state, host)
        assert found_kind == kind and (kb is None or found_kb == kb), (host, found_kb, found_kind)
        if kind == "baseline":
            assert found_kb.startswith("KB9")  # simulated: a month no catalog has published


def test_a_baseline_after_the_table_and_defender_always_offered(tmp_path, main_bin):
    with Lab(TRUTH / "2026-07-after-the-table.yml", tmp_path / "lab") as lab:
        state = lab.state()
        assert os_kb(state, "done01") == (None, None)
        kb, kind = os_kb(state, "behind01")
        assert kind == "baseline" and kb.startswith("KB9")
        results = run_playbook(main_bin, lab.inventory, [SEARCH], tmp_path, hosts="done01")
        titles = [u["title"] for u in results["done01"][0]["updates"].values()]
        assert any("Defender" in t for t in titles)
        assert not [t for t in titles if re.match(r"\d{4}-\d{2} Security Update \(KB\d+\) \(26100", t)]
