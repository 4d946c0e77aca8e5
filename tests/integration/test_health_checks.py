"""The patch role's wave hooks and health checks on the lab.

Three eligible hosts still on the December 2025 hotpatch take February's baseline: one restart each, one
host per wave. The hooks record, on the controller, the order in
which they ran; the lab's ledger records the restarts. A failing health check stops the rollout: the
later waves never start and their hosts are not restarted.
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
HOSTS = ["node01", "node02", "node03"]
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "hosts": {
        # eligible, off its baseline (December 2025 hotpatch): plan `baseline`, one restart
        name: {"os": "2025", "platform": "azure", "build": "26100.7392", "boot_seconds": 1}
        for name in HOSTS
    },
}
HOOK = """---
- name: Record the hook on the controller
  ansible.builtin.lineinfile:
    path: "{{{{ hook_log }}}}"
    line: "{kind} {{{{ inventory_hostname }}}}"
    create: true
    mode: "0644"
  delegate_to: localhost
  throttle: 1
"""


def patch(lab, tmp_path, **extra) -> subprocess.CompletedProcess:
    values = {
        "hotpatch_report_dir": str(tmp_path / "report"),
        "patch_batch_size": 1,
        "patch_health_retries": 1,
        "patch_health_delay": 1,
        **extra,
    }
    (tmp_path / "extra.json").write_text(json.dumps(values))
    env = dict(os.environ, ANSIBLE_NOCOLOR="true", ANSIBLE_RETRY_FILES_ENABLED="false")
    return subprocess.run(
        [
            BIN / "ansible-playbook",
            "hotpatch.windows.patch",
            "-i",
            lab.inventory,
            "-e",
            f"@{tmp_path / 'extra.json'}",
        ],
        env=env,
        text=True,
        capture_output=True,
        timeout=900,
        check=False,
    )


def outcomes(tmp_path) -> dict:
    hosts = (tmp_path / "report" / "latest" / "hosts").glob("*.json")
    return {path.stem: json.loads(path.read_text()) for path in hosts}


@pytest.fixture
def lab(tmp_path):
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump(FLEET))
    with Lab(fleet, tmp_path / "lab") as running:
        yield running


@pytest.fixture
def hooks(tmp_path) -> dict:
    for kind in ("pre", "post", "health"):
        (tmp_path / f"{kind}.yml").write_text(HOOK.format(kind=kind))
    return {
        "hook_log": str(tmp_path / "hooks.log"),
        "patch_pre_wave_tasks": str(tmp_path / "pre.yml"),
        "patch_post_wave_tasks": str(tmp_path / "post.yml"),
        "patch_health_tasks": str(tmp_path / "health.yml"),
    }


def test_hooks_and_health_checks_run_in_each_wave(lab, tmp_path, hooks):
    result = patch(lab, tmp_path, patch_health_services=["WinRM"], patch_health_ports=[5985], **hooks)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ledger = lab.ledger()
    assert ledger.restarts() == dict.fromkeys(HOSTS, 1)
    assert ledger.max_down() == 1
    # one wave per host, in hostname order: pre-wave hook, restart, health task file, post-wave hook
    lines = (tmp_path / "hooks.log").read_text().split()
    assert lines == [word for host in HOSTS for kind in ("pre", "health", "post") for word in (kind, host)]
    assert {host: record["status"] for host, record in outcomes(tmp_path).items()} == dict.fromkeys(
        HOSTS, "restarted"
    )


def test_failed_health_check_stops_the_rollout(lab, tmp_path, hooks):
    result = patch(lab, tmp_path, patch_health_services=["NoSuchService"], **hooks)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    # the first wave restarted node01, whose health check failed: no later wave started
    assert lab.ledger().restarts() == {"node01": 1}
    records = outcomes(tmp_path)
    assert records["node01"]["status"] == "failed"
    assert "NoSuchService" in records["node01"]["message"]
    assert records["node02"]["status"] == records["node03"]["status"] == "not_reached"
    lines = (tmp_path / "hooks.log").read_text().split()
    assert "node02" not in lines and "node03" not in lines
