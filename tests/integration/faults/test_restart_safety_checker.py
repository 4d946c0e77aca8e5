"""The restart-safety checker itself (no lab): it passes planned restarts and catches every kind of unplanned
one, so that its silence over the lab runs of the suite means something."""

import json
import os

import pytest

from tests.integration import restart_safety
from tests.lab import control

PORTS = {"web01": 5986, "sql01": 5987}


def plan(host, action, reboot, role="hotpatch.windows.assess"):
    return {
        "kind": "facts",
        "host": host,
        "port": PORTS[host],
        "role": role,
        "task": "plan",
        "facts": {"hotpatch_plan": {"action": action, "reboot": reboot}},
    }


def facts(host, role="hotpatch.windows.patch", **values):
    return {"kind": "facts", "host": host, "port": PORTS[host], "role": role, "task": "set", "facts": values}


def reboot(host, role="hotpatch.windows.patch", check_mode=False, port=None):
    return {
        "kind": "reboot",
        "host": host,
        "port": port or PORTS[host],
        "role": role,
        "task": "Restart the host",
        "status": "ok",
        "rebooted": True,
        "check_mode": check_mode,
    }


def restart(host):
    return [{"host": host, "event": "restart_down"}, {"host": host, "event": "restart_up"}]


def install(host, needs_restart):
    return {"host": host, "event": "install", "kb": "KB5075942", "restart": needs_restart}


def violations(ledger, audit):
    return restart_safety.check(ledger, audit, PORTS)["violations"]


def test_planned_restart_passes():
    assert violations(restart("web01"), [plan("web01", "baseline", True), reboot("web01")]) == []


def test_pending_restart_action_passes():
    assert violations(restart("web01"), [plan("web01", "reboot", True), reboot("web01")]) == []


def test_restart_against_the_plan_is_caught():
    found = violations(restart("web01"), [plan("web01", "hotpatch", False), reboot("web01")])
    assert len(found) == 1 and found[0].startswith("web01: ") and "reboot false" in found[0]


def test_unexpected_reboot_needs_the_ledger_to_show_the_need():
    audit = [plan("web01", "hotpatch", False), facts("web01", patch_unexpected=True), reboot("web01")]
    assert violations([install("web01", True), *restart("web01")], audit) == []
    found = violations([install("web01", False), *restart("web01")], audit)
    assert len(found) == 1 and "no install that needed a restart" in found[0]


def test_a_new_plan_resets_the_unexpected_flag():
    audit = [
        plan("web01", "hotpatch", False),
        facts("web01", patch_unexpected=True),
        plan("web01", "hotpatch", False),
        reboot("web01"),
    ]
    assert len(violations([install("web01", True), *restart("web01")], audit)) == 1


def test_restart_nobody_ran_is_caught():
    found = violations(restart("sql01"), [plan("sql01", "conventional", True)])
    assert found == [
        "sql01: the ledger shows 1 restart(s) but only 0 win_reboot ran on it (a restart nobody planned)"
    ]


def test_check_mode_reboot_does_not_allow_a_restart():
    found = violations(restart("web01"), [plan("web01", "baseline", True), reboot("web01", check_mode=True)])
    assert len(found) == 1 and "restart nobody planned" in found[0]


def test_outcome_restarted_must_show_in_the_ledger():
    audit = [
        plan("web01", "baseline", True),
        reboot("web01"),
        facts("web01", hotpatch_outcome={"status": "restarted", "restarted": True}),
    ]
    found = violations([], audit)
    assert found == ["web01: hotpatch_outcome says restarted, but the ledger shows no restart"]


def test_rollback_restart_needs_no_plan():
    assert violations(restart("web01"), [reboot("web01", role="hotpatch.windows.rollback")]) == []


def test_restart_without_any_plan_is_caught():
    found = violations(restart("web01"), [reboot("web01")])
    assert len(found) == 1 and "no hotpatch_plan" in found[0]


def test_test_own_reboots_are_counted_not_judged():
    # a test's own win_reboot (no collection role) is allowed, but still counted against the ledger
    assert violations(restart("web01"), [reboot("web01", role=None)]) == []


def test_other_labs_and_raw_winrm_labs_are_not_judged():
    # same host name on another lab's port; and a lab no ansible run touched
    other_lab = [dict(plan("web01", "hotpatch", False), port=1), reboot("web01", port=1)]
    assert violations(restart("web01"), other_lab) == []
    assert restart_safety.check(restart("web01"), [], PORTS) == {"checked": [], "violations": []}


def test_assert_safe_names_every_violation():
    with pytest.raises(restart_safety.RestartSafetyError, match=r"(?s)lab X.*web01: a.*sql01: b"):
        restart_safety.assert_safe({"checked": ["web01"], "violations": ["web01: a", "sql01: b"]}, "lab X")


def test_every_lab_of_the_suite_is_checked():
    assert control.Lab._restart_safety_wrapped is True
    assert "hotpatch_restart_audit" in os.environ["ANSIBLE_CALLBACKS_ENABLED"].split(",")
    assert os.environ["HOTPATCH_RESTART_AUDIT"]


def test_command_line_checks_a_lab_state_directory(tmp_path, capsys):
    """`python -m tests.integration.restart_safety --state DIR`, for labs started from the command line."""

    (tmp_path / "lab.json").write_text(json.dumps({"hosts": {h: {"port": p} for h, p in PORTS.items()}}))
    (tmp_path / "ledger.jsonl").write_text("".join(json.dumps(e) + "\n" for e in restart("web01")))
    audit = tmp_path / "audit.jsonl"
    audit.write_text(json.dumps(dict(plan("web01", "hotpatch", False), time=9e9)) + "\n")
    assert restart_safety.main(["--state", str(tmp_path), "--audit", str(audit)]) == 1
    assert "web01: the ledger shows 1 restart(s)" in capsys.readouterr().err
    audit.write_text(json.dumps(dict(plan("web01", "baseline", True), time=9e9)) + "\n")
    audit.write_text(audit.read_text() + json.dumps(dict(reboot("web01"), time=9e9)) + "\n")
    assert restart_safety.main(["--state", str(tmp_path), "--audit", str(audit)]) == 0
