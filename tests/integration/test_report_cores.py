"""The journal calls and the report role on the oldest and newest ansible-core the collection claims (the
venvs `make core-venvs` builds under build/, tests/publish/cores.py); the pinned one runs everything else."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.publish.cores import CORES as VERSIONS

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "tests" / "integration" / "journal"
CORES = {which: REPO / "build" / f"core-{version}" for which, version in VERSIONS.items()}


@pytest.mark.parametrize("core", sorted(CORES))
def test_example_playbook_and_report_role(core, tmp_path):
    playbook = CORES[core] / "bin" / "ansible-playbook"
    if not (CORES[core] / ".installed").is_file() or not playbook.is_file():
        pytest.fail(f"no {core} ansible-core venv at {CORES[core]}: run `make core-venvs` (make test does)")
    version = subprocess.run([str(playbook), "--version"], capture_output=True, text=True, check=False).stdout
    env = dict(os.environ, ANSIBLE_NOCOLOR="true", ANSIBLE_RETRY_FILES_ENABLED="false")
    env["PATH"] = os.pathsep.join([str(playbook.parent), env.get("PATH", "")])
    out = tmp_path / "out"
    result = subprocess.run(
        [
            str(playbook),
            str(EXAMPLE / "example.yml"),
            "-i",
            str(EXAMPLE / "inventory.yml"),
            "-e",
            f"hotpatch_report_dir={out}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{version.splitlines()[:1]}\n{output}"
    assert "DEPRECATION" not in output and "[WARNING]" not in output, output
    fleet = json.loads((out / "latest" / "fleet.json").read_text())
    assert fleet["run"]["state"] == "finished"
    assert sorted(r["host"] for r in fleet["hosts"]) == ["app01", "sql01", "web01"]
    assert (fleet["restart_count"], fleet["reboot_avoided"], fleet["max_down"]) == (3, 1, 2)
