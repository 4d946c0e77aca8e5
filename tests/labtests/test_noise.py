"""Field noise over real WinRM: a security agent that fills PendingFileRenameOperations again after each
restart, a pending computer rename, Instance Metadata that throttles or times out once, a WMI query that
times out, and a driver whose install drops the WinRM connection (ansible.windows issues #190, #264, #668)."""

import json
import time

import pytest

from tests.lab import Lab
from tests.labtests.helpers import run_playbook
from tests.labtests.test_wire import run_probe, session

QUIET = {"defender": False, "msrt": False, "dotnet": False, "preview": False}
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "boot_seconds": 0.5,
    "windows_update": QUIET,
    "hosts": {
        "agent01": {"os": "2025", "security_agent": True},
        "rename01": {"os": "2025", "pending_rename": "WEB-NEW"},
        "throttle01": {"os": "2025", "faults": ["imds_throttled_once"]},
        "timeout01": {"os": "2025", "faults": ["imds_timeout_once"]},
        "wmi01": {"os": "2025", "faults": ["wmi_timeout_once"]},
        "drv01": {
            "os": "2022",
            "drivers": [{"title": "VMware, Inc. - Net - 1.9.2.0", "kb": "KB5099101", "outage_seconds": 6}],
        },
    },
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(FLEET, tmp_path_factory.mktemp("noise")) as running:
        yield running


def probe(lab, host) -> tuple:
    out, err, rc, seconds = run_probe(session(lab, host))
    assert rc == 0, err
    return json.loads(out), seconds


def restart(lab, host):
    before = len([e for e in lab.ledger().events if e["host"] == host and e["event"] == "restart_up"])
    assert session(lab, host).run_cmd("shutdown /r /t 0").status_code == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ups = [e for e in lab.ledger().events if e["host"] == host and e["event"] == "restart_up"]
        if len(ups) > before:
            time.sleep(0.3)
            return
        time.sleep(0.1)
    raise AssertionError(f"{host} did not come back")


def test_security_agent_fills_pending_file_renames_again(lab):
    facts, _ = probe(lab, "agent01")
    assert facts["reboot_pending"]["file_rename"] is True
    restart(lab, "agent01")
    facts, _ = probe(lab, "agent01")
    assert facts["reboot_pending"] == {
        "cbs": False,
        "windows_update": False,
        "file_rename": True,
        "computer_rename": False,
    }


def test_pending_rename_clears_at_the_restart(lab):
    facts, _ = probe(lab, "rename01")
    assert facts["reboot_pending"]["computer_rename"] is True
    restart(lab, "rename01")
    facts, _ = probe(lab, "rename01")
    assert facts["reboot_pending"]["computer_rename"] is False


def test_instance_metadata_throttles_once(lab):
    # the first request gets HTTP 429; the probe retries (docs/probe.md) and its second request answers
    first, _ = probe(lab, "throttle01")
    second, _ = probe(lab, "throttle01")
    assert first["azure"]["sku"] == "2025-Datacenter-Azure-Edition-Core" and first["read_errors"] == {}
    assert second["azure"] is not None
    events = [e for e in lab.ledger().events if e["host"] == "throttle01" and e.get("what") == "probe"]
    assert [e.get("imds") for e in events] == ["throttled,ok", None]


def test_instance_metadata_times_out_once(lab):
    first, seconds = probe(lab, "timeout01")
    second, _ = probe(lab, "timeout01")
    # the first request times out (2 s, a tenth without a timing model), the retry answers
    assert first["azure"] is not None and first["read_errors"] == {} and seconds >= 0.2
    assert second["azure"] is not None


def test_wmi_times_out_once(lab):
    first, seconds = probe(lab, "wmi01")
    second, _ = probe(lab, "wmi01")
    assert first["vbs_status"] is None and seconds >= 1.4  # 15 s, a tenth without a timing model
    assert first["read_errors"] == {"vbs": "wmi timeout"}  # cannot read is not absent
    assert second["vbs_status"] == 2 and second["read_errors"] == {}


def test_driver_install_drops_winrm(lab, tmp_path, main_bin):
    tasks = [
        {
            "name": "install the driver",
            "ansible.windows.win_updates": {"category_names": ["Drivers"]},
            "ignore_unreachable": True,
            "ignore_errors": True,
        },
        {"name": "wait for WinRM", "ansible.builtin.wait_for_connection": {"timeout": 60, "sleep": 1}},
        {
            "name": "search",
            "ansible.windows.win_updates": {"state": "searched", "category_names": ["Drivers"]},
        },
    ]
    results = run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="drv01")
    install, _wait, search = results["drv01"]
    assert install.get("unreachable") or install.get("failed"), install
    assert search["found_update_count"] == 0  # the install finished while the connection was down
    events = [e for e in lab.ledger().events if e["host"] == "drv01"]
    kinds = [e["event"] for e in events if e["event"] in ("network_down", "network_up", "install")]
    assert kinds[:3] == ["network_down", "network_up", "install"] or kinds[:3] == [
        "network_down",
        "install",
        "network_up",
    ]
    assert next(e for e in events if e["event"] == "install")["kb"] == "KB5099101"
