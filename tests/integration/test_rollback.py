"""The rollback role and playbook on the lab: refusal without confirmation, check mode, a real rollback.

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

FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "hosts": {
        # eligible, on the January baseline: Windows Update offers February's hotpatch (no restart)
        "hp01": {"os": "2025", "platform": "azure", "boot_seconds": 1},
        "hp02": {"os": "2025", "platform": "azure", "boot_seconds": 1},
    },
}


def env() -> dict:
    values = dict(os.environ)
    values.update(
        ANSIBLE_NOCOLOR="true", ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false"
    )
    return values


def run(*command, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], env=env(), text=True, capture_output=True, timeout=timeout, check=False
    )


def rollback(lab, *args) -> subprocess.CompletedProcess:
    return run(BIN / "ansible-playbook", "hotpatch.windows.rollback", "-i", lab.inventory, *args)


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
            '{"category_names": ["*"], "reboot": false}',
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert lab.ledger().installs() == {"hp01": [HOTPATCH_KB], "hp02": [HOTPATCH_KB]}
        assert lab.ledger().restarts() == {}
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
        assert f"{host}: would remove {HOTPATCH_KB} and restart" in output
    ledger = hotpatched_lab.ledger()
    assert ledger.uninstalls() == {}
    assert ledger.restarts() == {}
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
    assert ledger.restarts() == {"hp01": 1}
    expected = f"hp01: removed {HOTPATCH_KB} (build {HOTPATCH_BUILD} -> {BASELINE_BUILD}, restarted: True)"
    assert expected in output
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
    assert ledger.restarts() == {"hp01": 1}
