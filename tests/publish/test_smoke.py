"""`requires_ansible` made honest: the collection on the oldest and the newest ansible-core it claims.

For each end (the Makefile's CORE_OLDEST and CORE_NEWEST, each in its venv under build/): the filters,
`ansible-doc` of every module, filter and role, `baseline_info` over real WinRM against a small lab fleet,
and `ansible-playbook hotpatch.windows.patch --check` on that fleet. No deprecation warning may come from
this collection (the probe launcher no longer calls ansible-core's private `_encode_script`).
"""

import json
import subprocess

import pytest
import yaml

from tests.conftest import INSTALLED, REPO
from tests.lab import Lab
from tests.publish.cores import CORES, core_bin, core_env
from tests.unit.test_docs import PLUGINS

HERE = REPO / "tests" / "publish"
SAMPLE = REPO / "tests" / "windows_samples" / "probe_outputs" / "azure-2025-ae.json"
DEMO = yaml.safe_load((REPO / "tests" / "lab" / "fleets" / "demo.yml").read_text())
# One host per kind of plan: hotpatch, baseline, a pending restart, not eligible.
SMOKE_HOSTS = {
    "az-web01": "hotpatch",
    "az-sql01": "baseline",
    "az-sql02": "reboot",
    "dc-2022": "conventional",
}
SMOKE_FLEET = {"date": DEMO["date"], "hosts": {name: DEMO["hosts"][name] for name in SMOKE_HOSTS}}
WHICH = pytest.mark.parametrize("which", list(CORES), ids=[f"core-{v}" for v in CORES.values()])


def run(which, tmp_path, *args, timeout=600):
    command = [str(core_bin(which) / args[0]), *args[1:]]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=core_env(tmp_path),
        cwd=tmp_path,
        timeout=timeout,
        check=False,
    )
    return done, done.stdout + done.stderr


def assert_no_deprecation_from_us(output):
    lines = [line for line in output.splitlines() if "DEPRECATION" in line or "deprecated" in line]
    ours = [line for line in lines if "hotpatch" in line or "_encode_script" in line]
    assert not ours, "\n".join(ours)


@WHICH
def test_filters(which, tmp_path):
    done, output = run(
        which, tmp_path, "ansible-playbook", str(HERE / "playbooks" / "filters.yml"), "-e", f"sample={SAMPLE}"
    )
    assert done.returncode == 0, output
    assert_no_deprecation_from_us(output)


@WHICH
@pytest.mark.parametrize("kind", sorted({kind for kind, _ in PLUGINS}))
def test_ansible_doc_of_every_plugin_and_role(which, kind, tmp_path):
    names = [f"hotpatch.windows.{name}" for k, name in PLUGINS if k == kind]
    done, output = run(which, tmp_path, "ansible-doc", "-t", kind, "--json", *names)
    assert done.returncode == 0, output
    # ansible-core's own warnings (2.21 warns about its internal _protomatter collection) are not ours
    assert "hotpatch" not in done.stderr, done.stderr
    documented = json.loads(done.stdout)
    assert sorted(documented) == sorted(names)


@pytest.fixture(scope="module")
def smoke_lab(tmp_path_factory):
    with Lab(SMOKE_FLEET, tmp_path_factory.mktemp("smoke") / "lab") as lab:
        yield lab


@WHICH
def test_baseline_info_over_winrm(which, tmp_path, smoke_lab):
    playbook = tmp_path / "baseline_info.yml"
    tasks = [
        {"name": "state", "hotpatch.windows.baseline_info": {}, "register": "state"},
        {
            "name": "plan",
            "ansible.builtin.copy": {
                "content": "{{ state | combine({'plan': state | hotpatch.windows.host_plan}) | to_json }}",
                "dest": f"{tmp_path}/{{{{ inventory_hostname }}}}.json",
            },
            "delegate_to": "localhost",
        },
    ]
    playbook.write_text(yaml.safe_dump([{"hosts": "windows", "gather_facts": False, "tasks": tasks}]))
    done, output = run(which, tmp_path, "ansible-playbook", "-i", str(smoke_lab.inventory), str(playbook))
    assert done.returncode == 0, output
    assert_no_deprecation_from_us(output)
    for name, action in SMOKE_HOSTS.items():
        state = json.loads((tmp_path / f"{name}.json").read_text())
        assert state["eligibility"]["eligible"] is (action != "conventional"), (name, state["eligibility"])
        assert state["plan"]["action"] == action, (name, state["plan"])


@WHICH
def test_patch_playbook_in_check_mode(which, tmp_path, smoke_lab):
    before = smoke_lab.ledger().summary()
    done, output = run(
        which,
        tmp_path,
        "ansible-playbook",
        "hotpatch.windows.patch",
        "--check",
        "-i",
        str(smoke_lab.inventory),
        "-e",
        f"hotpatch_report_dir={tmp_path / 'report'}",
    )
    assert done.returncode == 0, output
    assert_no_deprecation_from_us(output)
    after = smoke_lab.ledger()
    assert after.installs() == before["installs"] and after.restarts() == before["restarts"], (
        "check mode changed"
    )
    fleet = json.loads((tmp_path / "report" / "latest" / "fleet.json").read_text())
    assert fleet["check_mode"] is True and len(fleet["hosts"]) == len(SMOKE_HOSTS)


def test_the_tested_cores_are_the_claimed_range():
    runtime = yaml.safe_load((INSTALLED / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == f">={'.'.join(CORES['oldest'].split('.')[:2])}.0"
