"""The rollback role and playbook on the lab: refusal without confirmation, check mode, a real rollback of a
hotpatch and of a cumulative update, the way Microsoft documents it (the release's servicing package removed
with DISM by its name; wusa cannot remove the combined cumulative package). The lab models DISM's package
list and removal (tests/lab/packages.py).

Every test asserts on the lab's ledger (what the simulated hosts did), not only on Ansible's output.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("tests.lab", reason="the lab (tests/lab) is not there yet")

from tests.lab import Lab

BIN = Path(sys.executable).parent
HOTPATCH_KB = "KB5075942"  # Windows Server 2025, February 2026 hotpatch
BASELINE_BUILD = "26100.32230"  # January 2026 baseline
HOTPATCH_BUILD = "26100.32313"
LCU_KB = "KB5075899"  # Windows Server 2025, February 2026 cumulative update (not a hotpatch)

FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "windows_update": {"defender": False, "msrt": False, "dotnet": False, "preview": False},
    "hosts": {
        # eligible, on the January baseline: Windows Update offers February's hotpatch (no restart)
        "hp01": {"os": "2025", "platform": "azure", "boot_seconds": 1},
        "hp02": {"os": "2025", "platform": "azure", "boot_seconds": 1},
        # not enrolled: Windows Update offers February's cumulative update (a restart)
        "lcu01": {"os": "2025", "platform": "azure", "boot_seconds": 1, "hotpatch_enrolled": False},
    },
}


def env() -> dict:
    values = dict(os.environ)
    values.update(
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        # ad-hoc `ansible` runs load callbacks too, so the restart-safety audit sees their restarts
        ANSIBLE_LOAD_CALLBACK_PLUGINS="true",
    )
    return values


def run(*command, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], env=env(), text=True, capture_output=True, timeout=timeout, check=False
    )


def rollback(lab, *args) -> subprocess.CompletedProcess:
    report = f"hotpatch_report_dir={lab.state_dir.parent / 'report'}"
    playbook = BIN / "ansible-playbook"
    return run(playbook, "hotpatch.windows.rollback", "-i", lab.inventory, "-e", report, *args)


def probe(lab, host: str) -> dict:
    """The host's release state as hotpatch.windows.baseline_info reports it."""
    result = run(BIN / "ansible", host, "-i", lab.inventory, "-m", "hotpatch.windows.baseline_info", "-o")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.split("=>", 1)[1])


@pytest.fixture
def hotpatched_lab(tmp_path):
    """A lab whose hosts took February's hotpatch (installed directly with ansible.windows.win_updates)."""
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump(FLEET))
    with Lab(fleet, tmp_path / "lab") as lab:
        result = run(
            BIN / "ansible",
            "windows",
            "-i",
            lab.inventory,
            "-m",
            "ansible.windows.win_updates",
            "-a",
            '{"category_names": ["*"], "reboot": true}',
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert lab.ledger().installs() == {"hp01": [HOTPATCH_KB], "hp02": [HOTPATCH_KB], "lcu01": [LCU_KB]}
        assert lab.ledger().restarts() == {"lcu01": 1}
        yield lab


def test_refuses_without_confirmation(tmp_path):
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump(FLEET))
    with Lab(fleet, tmp_path / "lab") as lab:
        for args in ((), ("-e", "rollback_confirm=false")):
            result = rollback(lab, *args)
            output = result.stdout + result.stderr
            assert result.returncode != 0, output
            for host in ("hp01", "hp02"):
                assert f"{host}: rollback refused" in output
            assert "rollback_confirm=true" in output
            assert "Traceback" not in output
        ledger = lab.ledger()
        assert ledger.uninstalls() == {} and ledger.restarts() == {}


def test_check_mode_lists_and_restarts_nothing(hotpatched_lab):
    result = rollback(hotpatched_lab, "--check", "-e", "rollback_confirm=true")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for host in ("hp01", "hp02"):
        assert (
            f"{host}: would remove Package_for_RollupFix~" in output
            and f"({HOTPATCH_KB}) and restart" in output
        )
    assert f"({LCU_KB}) and restart" in output
    ledger = hotpatched_lab.ledger()
    assert ledger.uninstalls() == {}
    assert ledger.restarts() == {"lcu01": 1}
    status = probe(hotpatched_lab, "hp01")
    assert HOTPATCH_KB in status["facts"]["hotfixes"]
    assert status["current"]["build"] == HOTPATCH_BUILD


def test_rollback_uninstalls_and_restarts_once(hotpatched_lab):
    # one host at a time, only hp01 (the pattern limits the play)
    result = rollback(
        hotpatched_lab, "-e", "rollback_confirm=true", "-e", "rollback_serial=1", "-e", "rollback_hosts=hp01"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    ledger = hotpatched_lab.ledger()
    assert ledger.uninstalls() == {"hp01": [HOTPATCH_KB]}
    assert ledger.restarts() == {"hp01": 1, "lcu01": 1}
    assert "hp01: removed Package_for_RollupFix~" in output
    assert f"({HOTPATCH_KB}) (build {HOTPATCH_BUILD} -> {BASELINE_BUILD}, restarted: True)" in output
    status = probe(hotpatched_lab, "hp01")
    assert HOTPATCH_KB not in status["facts"]["hotfixes"]
    assert status["current"]["build"] == BASELINE_BUILD
    assert status["reboot_pending"]["required"] is False

    # the KB is gone now: asking for it again removes nothing and restarts nothing
    result = rollback(
        hotpatched_lab,
        "-e",
        "rollback_confirm=true",
        "-e",
        "rollback_hosts=hp01",
        "-e",
        f"rollback_kb={HOTPATCH_KB}",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{HOTPATCH_KB} is not installed: nothing removed" in output
    ledger = hotpatched_lab.ledger()
    assert ledger.uninstalls() == {"hp01": [HOTPATCH_KB]}
    assert ledger.restarts() == {"hp01": 1, "lcu01": 1}


def test_cumulative_update_is_removed_with_dism_and_restarts_once(hotpatched_lab):
    """The combined cumulative update: found by the build in DISM's package list, removed by its name."""
    before = probe(hotpatched_lab, "lcu01")
    assert LCU_KB in before["facts"]["hotfixes"] and before["current"]["build"] != BASELINE_BUILD
    result = rollback(hotpatched_lab, "-e", "rollback_confirm=true", "-e", "rollback_hosts=lcu01")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    ledger = hotpatched_lab.ledger()
    assert ledger.uninstalls() == {"lcu01": [LCU_KB]}
    assert ledger.restarts() == {"lcu01": 2}  # the install's restart, then the removal's
    removal = next(e for e in ledger.events if e["event"] == "uninstall")
    assert removal["package"].startswith("Package_for_RollupFix~")
    assert not [e for e in ledger.events if e.get("what") == "wusa_uninstall_failed"]
    after = probe(hotpatched_lab, "lcu01")
    assert after["current"]["build"] == BASELINE_BUILD
    assert LCU_KB not in after["facts"]["hotfixes"]
    assert after["reboot_pending"]["required"] is False
    report = json.loads((hotpatched_lab.state_dir.parent / "report" / "latest" / "fleet.json").read_text())
    record = {r["host"]: r for r in report["hosts"]}["lcu01"]
    assert record["rollback"]["removed"] in (True, "True") and record["restarted"] is True
