"""Bad input gives a clear error, never a traceback: the filters reject malformed facts and plans with a
message that says what was wrong, and every role's argument spec rejects a bad value with a message naming
the argument (and the value where Ansible shows it), through ansible-playbook on a local host."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleError

from ansible_collections.hotpatch.windows.plugins.filter.host_plan import host_plan_filter
from ansible_collections.hotpatch.windows.plugins.filter.maintenance_window import maintenance_window_filter
from ansible_collections.hotpatch.windows.plugins.filter.waves import waves_filter

BIN = Path(sys.executable).parent

GOOD_PLAN = {"action": "baseline", "reboot": True, "reasons": [], "group": None}

# (filter, arguments, words the message must hold)
FILTER_CASES = {
    "status not a mapping": (host_plan_filter, ("garbage",), ["host_plan", "baseline_info", "str"]),
    "status without eligibility": (host_plan_filter, ({"facts": {}},), ["host_plan", "eligibility"]),
    "status eligibility not bool": (
        host_plan_filter,
        ({"eligibility": {"eligible": "yes"}},),
        ["host_plan", "eligible"],
    ),
    "plans not a mapping": (waves_filter, (["web01"], 1), ["waves", "mapping"]),
    "plan without reboot": (
        waves_filter,
        ({"web01": {"action": "baseline"}}, 1),
        ["waves", "web01", "reboot"],
    ),
    "plan reboot not bool": (waves_filter, ({"web01": {"reboot": "yes"}}, 1), ["waves", "web01", "reboot"]),
    "plan group not a string": (
        waves_filter,
        ({"web01": dict(GOOD_PLAN, group=["a"])}, 1),
        ["waves", "web01", "group"],
    ),
    "batch size zero": (waves_filter, ({"web01": GOOD_PLAN}, 0), ["batch_size", "0"]),
    "batch size negative": (waves_filter, ({"web01": GOOD_PLAN}, -2), ["batch_size", "-2"]),
    "batch size over 100%": (waves_filter, ({"web01": GOOD_PLAN}, "150%"), ["batch_size", "150%"]),
    "batch size word": (waves_filter, ({"web01": GOOD_PLAN}, "lots"), ["batch_size", "lots"]),
    "max per group zero": (waves_filter, ({"web01": GOOD_PLAN}, 1, 0), ["max_per_group", "0"]),
    "window day unknown": (
        maintenance_window_filter,
        ({"days": ["Someday"]}, "2026-02-12T02:00:00Z", "UTC", None, "web01"),
        ["maintenance_window", "web01", "Someday"],
    ),
    "window zone unknown": (
        maintenance_window_filter,
        ({"days": ["Thu"]}, "2026-02-12T02:00:00Z", "Mars Standard Time", None, "web01"),
        ["maintenance_window", "web01", "Mars Standard Time"],
    ),
}


@pytest.mark.parametrize("case", sorted(FILTER_CASES))
def test_filter_rejects_malformed_input(case):
    function, arguments, words = FILTER_CASES[case]
    with pytest.raises(AnsibleError) as error:
        function(*arguments)
    message = str(error.value)
    for word in words:
        assert word in message, message


# role: {variable: bad value}. Each case runs the role on a local host; its first task, the argument spec
# validation (or the role's own check), must fail with a message naming the variable - except for the
# per-host settings (HOST_SETTINGS), which fail that host's assessment or outcome, with the variable named,
# and never the play (one bad host never stops the others).
ROLE_CASES = [
    ("assess", "assess_search_updates", "maybe"),
    ("assess", "assess_defer_non_security", "sometimes"),
    ("assess", "hotpatch_platform", "mars"),
    ("assess", "hotpatch_arc_license", "perhaps"),
    ("assess", "hotpatch_image", "not-a-mapping"),
    ("patch", "patch_batch_size", 0),
    ("patch", "patch_batch_size", "lots"),
    ("patch", "patch_max_per_group", "two"),
    ("patch", "patch_max_fail_percentage", "many"),
    ("patch", "patch_unexpected_reboot", "sometimes"),
    ("patch", "patch_reboot_timeout", "soon"),
    ("patch", "patch_health_services", {"name": "W3SVC"}),
    ("patch", "patch_maintenance_window", {"days": ["Someday"], "start": "01:00", "end": "03:00"}),
    ("rollback", "rollback_confirm", "please"),
    ("rollback", "rollback_reboot_timeout", "soon"),
    ("rollback", "rollback_reinstall_baseline", "maybe"),
    ("report", "report_set_stats", "perhaps"),
    ("report", "report_calendar_year", "next"),
]


HOST_SETTINGS = {"hotpatch_platform", "hotpatch_arc_license", "hotpatch_image", "patch_maintenance_window"}


def case_id(case) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}"


@pytest.fixture(scope="module")
def role_failures(tmp_path_factory):
    """One ansible-playbook run: one host per case, each running its role with the bad value in a block
    whose rescue keeps the failure message. Returns ({case id: message}, the whole output)."""
    work = tmp_path_factory.mktemp("input-validation")
    hosts = {}
    for index, (role, variable, value) in enumerate(ROLE_CASES):
        hosts[f"case{index:02d}"] = {"case_role": role, "case_variable": variable, variable: value}
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "hotpatch_report_dir": str(work / "report"),
            },
            "children": {"windows": {"hosts": hosts}},
        }
    }
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = [
        {
            "name": "Run each role with one bad argument",
            "hosts": "windows",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Run the role",
                    "block": [
                        {
                            "name": "Include the role under test",
                            "ansible.builtin.include_role": {"name": "hotpatch.windows.{{ case_role }}"},
                        },
                        {
                            "name": "The role accepted the bad value, or failed the host gracefully",
                            "ansible.builtin.set_fact": {
                                "case_msg": "{{ hotpatch_status.message"
                                " if hotpatch_status.failed | default(false)"
                                " else hotpatch_outcome.message"
                                " if hotpatch_outcome.status | default('') == 'failed' else '' }}",
                                "case_graceful": True,
                            },
                        },
                    ],
                    "rescue": [
                        {
                            "name": "Keep the failure message",
                            "ansible.builtin.set_fact": {
                                "case_msg": "{{ ansible_failed_result.msg | string }}"
                            },
                        }
                    ],
                },
                {
                    "name": "Write the message",
                    "ansible.builtin.copy": {
                        "content": "{{ case_msg }}",
                        "dest": str(work / "msg-{{ inventory_hostname }}.txt"),
                        "mode": "0644",
                    },
                    "delegate_to": "localhost",
                },
            ],
        }
    ]
    (work / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_FORKS="20",
        ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
        ANSIBLE_HOME=str(work / "home"),
    )
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(work / "inventory.yml"), str(work / "play.yml")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = {}
    for index, case in enumerate(ROLE_CASES):
        path = work / f"msg-case{index:02d}.txt"
        messages[case_id(case)] = path.read_text() if path.exists() else None
    return messages, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", ROLE_CASES, ids=case_id)
def test_role_rejects_bad_argument(role_failures, case):
    """A rollout setting stops the role; a host setting fails that host only, saying why."""
    messages, output = role_failures
    role, variable, value = case
    message = messages[case_id(case)]
    assert message is not None, f"the play did not reach the case:\n{output[-3000:]}"
    assert message, f"hotpatch.windows.{role} accepted {variable}={json.dumps(value)}"
    assert variable in message, message
    assert "Traceback" not in message


def test_no_traceback_in_the_output(role_failures):
    assert "Traceback" not in role_failures[1]
