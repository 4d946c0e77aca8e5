"""The filters through real Ansible and Jinja, with the installed collection."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOSTS = yaml.safe_load((HERE.parent / "plugin_utils" / "cases" / "hosts.yml").read_text(encoding="utf-8"))[
    "hosts"
]


def _environment():
    env = dict(os.environ)
    env["ANSIBLE_NOCOLOR"] = "true"
    env["ANSIBLE_LOCALHOST_WARNING"] = "false"
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "true"
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    return env


def _run(arguments, cwd):
    return subprocess.run(
        arguments, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=180, check=False
    )


def test_release_cycle_ad_hoc(tmp_path):
    result = _run(
        [
            str(BIN / "ansible"),
            "localhost",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "msg={{ '2024-08-14' | hotpatch.windows.release_cycle(os='2022') }}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    body = result.stdout[result.stdout.index("{") :]
    message = json.loads(body)["msg"]
    assert message["kb"] == "KB5041160"
    assert message["build"] == "20348.2655"
    assert message["unplanned"] is True
    assert message["type"] == "baseline"
    assert message["month"] == "2024-08"


PLAYBOOK = """
- name: Filters through Jinja
  hosts: localhost
  gather_facts: false
  vars:
    hotpatch_platform: arc
    hotpatch_arc_license: enabled
  tasks:
    - name: Evaluate
      ansible.builtin.set_fact:
        verdict: >-
          {{ facts | hotpatch.windows.eligibility(hotpatch_platform=hotpatch_platform,
          hotpatch_arc_license=hotpatch_arc_license) }}
        cycle: "{{ facts.now | hotpatch.windows.release_cycle(os='2025', catalog=hotpatch_catalog) }}"
        plan: "{{ status | hotpatch.windows.host_plan([], {'defer_non_security': true}) }}"
        restart_waves: "{{ plans | hotpatch.windows.waves('50%', 1) }}"

    - name: Show
      ansible.builtin.debug:
        msg: "{{ {'verdict': verdict, 'cycle': cycle, 'plan': plan, 'waves': restart_waves} | to_json }}"

    - name: A bad value fails with a clear message
      ansible.builtin.debug:
        msg: "{{ plans | hotpatch.windows.waves('none') }}"
      register: bad
      ignore_errors: true

    - name: Show the failure
      ansible.builtin.debug:
        msg: "FAILURE: {{ bad.msg }}"
"""


def test_filters_in_a_playbook(tmp_path):
    facts = HOSTS["arc_2025"]
    variables = {
        "facts": facts,
        "hotpatch_catalog": [{"os": "2025", "month": "2025-02", "type": "baseline", "unplanned": True}],
        "status": {
            "eligibility": {"eligible": True},
            "cycle": {"type": "hotpatch", "month": "2025-02"},
            "on_current_baseline": True,
            "up_to_date": True,
            "reboot_pending": {"required": False, "reasons": []},
        },
        "plans": {"web2": {"reboot": True, "group": "web"}, "web1": {"reboot": True, "group": "web"}},
    }
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    result = _run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@vars.json", "play.yml"],
        tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    shown = json.loads(
        next(line for line in result.stdout.splitlines() if '"msg": "{' in line).split('"msg": ', 1)[1]
    )
    data = json.loads(shown)
    assert data["verdict"]["eligible"] is True
    assert data["verdict"]["platform"] == "arc"
    assert data["cycle"]["type"] == "baseline"
    assert data["cycle"]["unplanned"] is True
    assert data["plan"]["action"] == "none"
    assert data["waves"] == [["web1"], ["web2"]]
    assert "hotpatch.windows.waves: batch_size" in output
    assert "'none'" in output
    assert "Traceback" not in output
