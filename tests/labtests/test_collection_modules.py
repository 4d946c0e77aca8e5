"""The collection's eligibility_info and baseline_info over real WinRM against every host of demo.yml:
they must report what the fleet file describes."""

import pytest
import yaml

from tests.lab import Lab
from tests.lab.catalog import MAJOR
from tests.labtests.helpers import FLEETS, run_playbook

# host: (eligible, platform, reason codes that must be reported, plan action)
EXPECTED = {
    "az-web01": (True, "azure", set(), "hotpatch"),
    "az-web02": (True, "azure", set(), "hotpatch"),
    "az-web03": (True, "azure", set(), "none"),
    "az-sql01": (True, "azure", set(), "baseline"),
    "az-sql02": (True, "azure", set(), "reboot"),
    "az-sql03": (True, "azure", set(), "hotpatch"),
    "az-app01": (False, "azure", {"image_not_supported"}, "conventional"),
    "az-gold01": (False, "azure", {"custom_image"}, "conventional"),
    "az-vmss01": (False, "azure", {"vmss_uniform"}, "conventional"),
    "az-novbs01": (False, "azure", {"vbs_not_running"}, "conventional"),
    "az-arm01": (False, "azure", {"chpe_enabled"}, "conventional"),
    "az-std01": (False, "azure", {"edition_not_supported"}, "conventional"),
    "hci-01": (True, "azure_local", set(), "hotpatch"),
    "arc-01": (True, "arc", set(), "hotpatch"),
    "arc-02": (False, "arc", {"arc_not_licensed"}, "conventional"),
    "arc-03": (False, "arc", {"build_too_old"}, "conventional"),
    "dc-2019": (False, "on_premises", {"os_not_supported"}, "conventional"),
    "dc-2022": (False, "on_premises", set(), "conventional"),
}


def collection_modules_present(installed) -> bool:
    action = installed / "plugins" / "action"
    return (action / "eligibility_info.py").is_file() and (action / "baseline_info.py").is_file()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, main_bin, installed_collection):
    if not collection_modules_present(installed_collection):
        pytest.skip("hotpatch.windows eligibility_info/baseline_info are not in the installed collection yet")
    tmp = tmp_path_factory.mktemp("demo")
    tasks = [
        {"name": "eligibility", "hotpatch.windows.eligibility_info": {}},
        {"name": "baseline", "hotpatch.windows.baseline_info": {}, "register": "status"},
        {"name": "plan", "ansible.builtin.debug": {"msg": "{{ status | hotpatch.windows.host_plan }}"}},
    ]
    with Lab(FLEETS / "demo.yml", tmp / "lab") as lab:
        yield run_playbook(main_bin, lab.inventory, tasks, tmp, timeout=300)


def test_demo_covers_every_platform_and_action():
    assert {e[1] for e in EXPECTED.values()} == {"azure", "azure_local", "arc", "on_premises"}
    assert {e[3] for e in EXPECTED.values()} == {"hotpatch", "baseline", "reboot", "conventional", "none"}
    fleet = yaml.safe_load((FLEETS / "demo.yml").read_text())
    assert set(fleet["hosts"]) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_collection_reports_what_the_fleet_describes(demo, name):
    eligible, platform, reasons, action = EXPECTED[name]
    spec = yaml.safe_load((FLEETS / "demo.yml").read_text())["hosts"][name]
    eligibility, baseline, plan = demo[name]
    assert not eligibility.get("failed") and not baseline.get("failed"), (eligibility, baseline)
    for result in (eligibility, baseline):
        assert result["eligibility"]["eligible"] is eligible
        assert result["eligibility"]["platform"] == platform
        assert reasons <= {r["code"] for r in result["eligibility"]["reasons"]}
    facts = baseline["facts"]
    assert facts["os"]["build"] == MAJOR[spec["os"]]
    if "build" in spec:
        assert f"{facts['os']['build']}.{facts['os']['ubr']}" == spec["build"]
    assert facts["os"]["architecture"] == spec.get("architecture", "AMD64")
    assert sorted(k for k, v in facts["reboot_pending"].items() if v) == sorted(
        spec.get("reboot_pending", [])
    )
    if spec["os"] in ("2022", "2025"):
        assert baseline["cycle"]["month"] == "2026-02" and baseline["cycle"]["type"] == "hotpatch"
    assert plan["msg"]["action"] == action


def test_older_ansible_core_sees_the_same(tmp_path, old_core_bin, installed_collection):
    if not collection_modules_present(installed_collection):
        pytest.skip("hotpatch.windows eligibility_info/baseline_info are not in the installed collection yet")
    tasks = [{"hotpatch.windows.baseline_info": {}}]
    with Lab(FLEETS / "demo.yml", tmp_path / "lab") as lab:
        results = run_playbook(old_core_bin, lab.inventory, tasks, tmp_path, timeout=300)
    for name, (eligible, platform, reasons, _) in EXPECTED.items():
        result = results[name][0]
        assert result["eligibility"]["eligible"] is eligible, (name, result)
        assert result["eligibility"]["platform"] == platform
        assert reasons <= {r["code"] for r in result["eligibility"]["reasons"]}
