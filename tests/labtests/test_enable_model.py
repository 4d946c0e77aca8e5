"""What the lab models for hotpatch.windows.enable and the enrolment probe (docs/lab.md): registry changes
that Windows applies at the next boot (VBS only with UEFI Secure Boot, CHPE), the fake Azure Resource
Manager's license profiles, `azcmagent show -j`, the Windows Update policy and WSUS approvals, the enrolment
signals."""

import datetime
import json
import time
import urllib.error
import urllib.request

import pytest

from tests.lab import FleetError, Lab
from tests.lab.fleet import LAB_SUBSCRIPTION, load_fleet
from tests.labtests.helpers import run_playbook
from tests.labtests.test_wire import run_probe, session

TOKEN = "lab-arm-test-token"
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "boot_seconds": 0.3,
    "azure_resource_manager": {"token": TOKEN, "enable_seconds": 600},
    "hosts": {
        "vbsoff01": {"os": "2025", "vbs": "off", "build": "26100.32230", "hotfixes": ["KB5073379"]},
        "nosb01": {"os": "2025", "vbs": "off", "secure_boot": False},
        "bios01": {"os": "2025", "vbs": "off", "uefi": False},
        "arm01": {"os": "2025", "architecture": "ARM64", "chpe": True},
        "arc01": {
            "os": "2025",
            "platform": "arc",
            "arc": {"agent": "running", "hotpatch_license": "disabled"},
            "windows_update_policy": {
                "wu_server": "http://wsus.lab.test:8530",
                "use_wu_server": 1,
                "au_options": 4,
            },
            "wsus_approved": [],
        },
        "arcoff01": {"os": "2025", "platform": "arc", "vbs": "off", "arc": {"agent": "running"}},
    },
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(FLEET, tmp_path_factory.mktemp("enable-model")) as running:
        yield running


def probe(lab, host):
    out, err, rc, _ = run_probe(session(lab, host))
    assert rc == 0, err
    return json.loads(out)


def arm(lab, host, method="GET", body=None, token=TOKEN, query="?api-version=2024-07-10"):
    endpoint = json.loads((lab.state_dir / "lab.json").read_text())["arm"]["endpoint"]
    url = (
        f"{endpoint}/subscriptions/{LAB_SUBSCRIPTION}/resourceGroups/rg-lab-arc/providers/"
        f"Microsoft.HybridCompute/machines/{host}/licenseProfiles/default{query}"
    )
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body else None, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def feature(answer):
    features = answer["properties"]["productProfile"]["productFeatures"]
    return {item["name"]: item["subscriptionStatus"] for item in features}.get("Hotpatch")


ENABLE = {
    "properties": {
        "productProfile": {"productFeatures": [{"name": "Hotpatch", "subscriptionStatus": "Enable"}]}
    }
}


def restart(lab, host):
    before = len([e for e in lab.ledger().events if e["host"] == host and e["event"] == "restart_up"])
    assert session(lab, host).run_cmd("shutdown /r /t 0").status_code == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len([e for e in lab.ledger().events if e["host"] == host and e["event"] == "restart_up"]) > before:
            time.sleep(0.2)
            return
        time.sleep(0.1)
    raise AssertionError(f"{host} did not come back")


def test_fleet_keys_are_checked():
    base = {"date": "2026-02-12T02:00:00Z"}
    for host, fragment in (
        ({"uefi": False, "secure_boot": True, "vbs": "off"}, "secure_boot needs uefi"),
        ({"secure_boot": False}, "vbs running needs UEFI with Secure Boot"),
        ({"windows_update_policy": {"AUOptions": 4}}, "windows_update_policy"),
        ({"windows_update_policy": {"au_options": "4"}}, "au_options must be a int"),
        ({"wsus_approved": "none"}, "wsus_approved"),
        ({"azure_vm_agent": "maybe"}, "azure_vm_agent"),
        ({"enrolment_signals": "yes"}, "enrolment_signals"),
        ({"arc": {"resource": {"id": "x"}}}, "arc.resource"),
    ):
        with pytest.raises(FleetError, match=fragment):
            load_fleet(dict(base, hosts={"h1": host}))
    with pytest.raises(FleetError, match="azure_resource_manager"):
        load_fleet(dict(base, hosts={"h1": {}}, azure_resource_manager={"token": "a b"}))
    # today's fleets still load, with the defaults of the new keys
    host = load_fleet(dict(base, hosts={"h1": {}}))["hosts"]["h1"]
    assert (host["uefi"], host["secure_boot"], host["azure_vm_agent"]) == (True, True, "running")


def test_probe_reports_firmware_agents_policy_and_enrolment(lab):
    bios = probe(lab, "bios01")
    assert bios["secure_boot"] is None and bios["vbs_status"] == 0  # BIOS: Confirm-SecureBootUEFI fails
    assert bios["enrolment"]["hotpatch_table_size"] is None  # not enrolled: no enrolment signals
    arc = probe(lab, "arc01")
    assert arc["azure_vm_agent"] == {"installed": False, "running": False}
    assert arc["azcmagent"]["status"] == "Connected" and arc["azcmagent"]["resource_name"] == "arc01"
    assert arc["azcmagent"]["subscription_id"] == LAB_SUBSCRIPTION
    assert (
        arc["windows_update_policy"]["use_wu_server"] == 1 and arc["windows_update_policy"]["au_options"] == 4
    )
    assert arc["read_errors"] == {"imds": "unreachable (ConnectFailure)"}


def test_azcmagent_show_answers_as_the_agent(lab):
    out = session(lab, "arc01").run_ps("azcmagent show -j")
    shown = json.loads(out.std_out)
    assert shown["status"] == "Connected" and shown["resourceGroup"] == "rg-lab-arc"
    assert set(shown) >= {"status", "lastHeartbeat", "resourceName", "subscriptionId", "location"}
    missing = session(lab, "vbsoff01").run_ps("azcmagent show -j")
    assert missing.status_code == 1 and b"not recognized" in missing.std_err


def test_wsus_offers_only_what_it_approved(lab):
    # UseWUServer=1 and nothing approved: Windows Update offers nothing although the host lacks the release
    assert lab.state("arc01")["arc01"]["offered"] == []
    assert lab.state("arcoff01")["arcoff01"]["offered"]


def test_vbs_runs_after_the_next_boot_only_with_secure_boot(lab, tmp_path, main_bin):
    tasks = [
        {
            "name": "turn VBS on",
            "ansible.windows.win_regedit": {
                "path": r"HKLM:\SYSTEM\CurrentControlSet\Control\DeviceGuard",
                "name": "EnableVirtualizationBasedSecurity",
                "data": 1,
                "type": "dword",
            },
        }
    ]
    results = run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="vbsoff01:nosb01")
    assert results["vbsoff01"][0]["changed"] and results["nosb01"][0]["changed"]
    # written, pending, not running yet: the probe reads the registry value and the running state
    facts = probe(lab, "vbsoff01")
    assert facts["vbs_config"]["enable_virtualization_based_security"] == 1 and facts["vbs_status"] == 0
    pending = [e for e in lab.ledger().events if e["event"] == "pending"]
    assert {(e["host"], e["what"]) for e in pending} >= {("vbsoff01", "vbs"), ("nosb01", "vbs")}
    again = run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="vbsoff01")
    assert again["vbsoff01"][0]["changed"] is False  # idempotent
    restart(lab, "vbsoff01")
    restart(lab, "nosb01")
    assert probe(lab, "vbsoff01")["vbs_status"] == 2
    assert probe(lab, "nosb01")["vbs_status"] == 1  # enabled, not running: no Secure Boot
    state = lab.state("vbsoff01")["vbsoff01"]
    assert state["vbs"] == "running" and state["hotpatch_eligible"] is True and state["pending_boot"] == []
    assert probe(lab, "vbsoff01")["enrolment"]["package_name"] == "Hotpatch Enrollment Package"


def test_chpe_turns_off_at_the_next_boot(lab, tmp_path, main_bin):
    tasks = [
        {
            "name": "CHPE off",
            "ansible.windows.win_regedit": {
                "path": r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management",
                "name": "HotPatchRestrictions",
                "data": 1,
                "type": "dword",
            },
            "check_mode": True,
        }
    ]
    checked = run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="arm01")
    assert checked["arm01"][0]["changed"] and probe(lab, "arm01")["hotpatch_restrictions"] is None
    tasks[0]["check_mode"] = False
    run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="arm01")
    assert probe(lab, "arm01")["hotpatch_restrictions"] == 1
    assert lab.state("arm01")["arm01"]["chpe"] is True  # until the next boot
    restart(lab, "arm01")
    assert lab.state("arm01")["arm01"]["chpe"] is False


def test_resource_manager_license_profiles(lab):
    assert arm(lab, "arc01", token=None)[1]["error"]["code"] == "AuthenticationFailed"
    assert arm(lab, "arc01", token="other")[0] == 401
    assert arm(lab, "arc01", query="")[1]["error"]["code"] == "MissingApiVersionParameter"
    assert arm(lab, "nosuch")[0] == 404
    assert arm(lab, "arc01")[1]["error"]["code"] == "ResourceNotFound"  # no license profile yet
    assert arm(lab, "arc01", "PATCH", ENABLE)[0] == 404
    assert arm(lab, "arc01", "PUT", ENABLE)[1]["error"]["code"] == "LocationRequired"
    status, answer = arm(lab, "arc01", "PUT", dict(ENABLE, location="westeurope"))
    assert status == 201 and feature(answer) == "Enabling"
    assert feature(arm(lab, "arc01")[1]) == "Enabling"  # about 10 minutes (enable_seconds: 600)
    assert lab.state("arc01")["arc01"]["hotpatch_license"] == "disabled"
    lab.advance(lab.now() + datetime.timedelta(seconds=601))
    assert feature(arm(lab, "arc01")[1]) == "Enabled"
    assert lab.state("arc01")["arc01"]["hotpatch_license"] == "enabled"
    # VSM not running: enabling fails (Microsoft), the licence stays off
    status, answer = arm(lab, "arcoff01", "PUT", dict(ENABLE, location="westeurope"))
    assert status == 201 and feature(answer) == "Failed"
    assert lab.state("arcoff01")["arcoff01"]["hotpatch_license"] == "disabled"
    requests = [e for e in lab.ledger().events if e["event"] == "arm_request"]
    assert {e["host"] for e in requests} >= {"arc01", "arcoff01", "lab"}
    assert all(TOKEN not in json.dumps(e) for e in requests)
