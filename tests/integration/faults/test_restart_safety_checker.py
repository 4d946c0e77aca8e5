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


def decision(host, restart=True, evidence=("pending restart: cbs",)):
    return facts(host, patch_restart={"restart": restart, "evidence": list(evidence), "message": "x"})


def restart(host):
    return [{"host": host, "event": "restart_down"}, {"host": host, "event": "restart_up"}]


def install(host, needs_restart):
    return {"host": host, "event": "install", "kb": "KB5075942", "restart": needs_restart}


def start(host, *pending):
    return {"host": host, "event": "start", "reboot_pending": list(pending)}


def violations(ledger, audit):
    return restart_safety.check(ledger, audit, PORTS)["violations"]


def test_restart_after_an_install_that_needs_one_passes():
    audit = [plan("web01", "baseline", True), decision("web01"), reboot("web01")]
    assert violations([install("web01", True), *restart("web01")], audit) == []


def test_restart_pending_at_the_start_passes():
    audit = [plan("web01", "reboot", True), decision("web01"), reboot("web01")]
    assert violations([start("web01", "windows_update"), *restart("web01")], audit) == []


def test_file_rename_at_the_start_is_no_evidence():
    audit = [plan("web01", "reboot", True), decision("web01"), reboot("web01")]
    found = violations([start("web01", "file_rename", "computer_rename"), *restart("web01")], audit)
    assert len(found) == 1 and "restart 1 in the ledger had no Windows evidence" in found[0]


def test_install_that_needs_no_restart_is_no_evidence():
    audit = [plan("web01", "baseline", True), decision("web01"), reboot("web01")]
    found = violations([install("web01", False), *restart("web01")], audit)
    assert found == [
        "web01: restart 1 in the ledger had no Windows evidence before it (no install that needed a restart, "
        "no uninstall, no restart pending)"
    ]


def test_evidence_is_used_up_by_a_restart():
    audit = [plan("web01", "baseline", True), decision("web01"), reboot("web01"), reboot("web01")]
    ledger = [install("web01", True), *restart("web01"), *restart("web01")]
    found = violations(ledger, audit)
    assert len(found) == 1 and "restart 2" in found[0]


def test_a_predicted_restart_alone_is_not_enough_for_the_collection():
    # the plan predicted a restart, but the decision right before named no evidence
    audit = [plan("web01", "baseline", True), decision("web01", restart=False, evidence=()), reboot("web01")]
    found = violations([install("web01", True), *restart("web01")], audit)
    assert len(found) == 1 and "named no evidence" in found[0]


def test_collection_restart_without_a_decision_is_caught():
    found = violations(
        [install("web01", True), *restart("web01")], [plan("web01", "baseline", True), reboot("web01")]
    )
    assert len(found) == 1 and "no restart decision" in found[0]


def test_restart_nobody_ran_is_caught():
    found = violations([install("sql01", True), *restart("sql01")], [plan("sql01", "conventional", True)])
    assert found == [
        "sql01: the ledger shows 1 restart(s) but only 0 win_reboot ran on it (a restart nobody planned)"
    ]


def test_check_mode_reboot_does_not_allow_a_restart():
    audit = [plan("web01", "baseline", True), decision("web01"), reboot("web01", check_mode=True)]
    found = violations([install("web01", True), *restart("web01")], audit)
    assert len(found) == 1 and "restart nobody planned" in found[0]


def test_outcome_restarted_must_show_in_the_ledger():
    audit = [
        plan("web01", "baseline", True),
        decision("web01"),
        reboot("web01"),
        facts("web01", hotpatch_outcome={"status": "restarted", "restarted": True}),
    ]
    found = violations([], audit)
    assert found == ["web01: hotpatch_outcome says restarted, but the ledger shows no restart"]


def test_rollback_restart_is_judged_by_the_lab_alone():
    ledger = [{"host": "web01", "event": "uninstall", "kb": "KB5075942"}, *restart("web01")]
    assert violations(ledger, [reboot("web01", role="hotpatch.windows.rollback")]) == []
    found = violations(restart("web01"), [reboot("web01", role="hotpatch.windows.rollback")])
    assert len(found) == 1 and "no Windows evidence" in found[0]


def pending(host, what="vbs"):
    return {"host": host, "event": "pending", "what": what}


def test_enable_restart_needs_a_pending_change_and_a_decision():
    # the enable role restarts through the patch role's wave: a decision that names the change's evidence,
    # and the lab's `pending` event (a registry change that takes effect at the next boot)
    audit = [
        decision("web01", evidence=["EnableVirtualizationBasedSecurity=1 written ..."]),
        reboot("web01", role="hotpatch.windows.patch"),
    ]
    assert violations([pending("web01"), *restart("web01")], audit) == []
    # the same restart without the lab's evidence is caught
    assert violations(restart("web01"), audit) == [
        "web01: restart 1 in the ledger had no Windows evidence before it (no install that needed a restart, "
        "no uninstall, no restart pending)"
    ]


def test_enable_role_restart_without_a_decision_is_caught():
    found = violations(
        [pending("web01"), *restart("web01")], [reboot("web01", role="hotpatch.windows.enable")]
    )
    assert found == [
        "web01: hotpatch.windows.enable ran 'Restart the host' but no restart decision (patch_restart) "
        "preceded it"
    ]


def test_test_own_reboots_are_counted_not_judged():
    # a test's own win_reboot (no collection role) is counted against the ledger, not judged
    assert violations([install("web01", True), *restart("web01")], [reboot("web01", role=None)]) == []
    assert violations(restart("web01"), [reboot("web01", role=None)]) == []
    assert restart_safety.check(restart("web01"), [], PORTS) == {"checked": [], "violations": []}


def test_other_labs_are_not_judged_on_the_collection_side():
    other_lab = [dict(plan("web01", "hotpatch", False), port=1), reboot("web01", port=1)]
    assert violations([install("web01", True), *restart("web01")], other_lab) == []
    assert restart_safety.check(restart("web01"), [], PORTS)["checked"] == []


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
    ledger = [install("web01", True), *restart("web01")]
    (tmp_path / "ledger.jsonl").write_text("".join(json.dumps(e) + "\n" for e in ledger))
    audit = tmp_path / "audit.jsonl"
    audit.write_text(json.dumps(dict(plan("web01", "hotpatch", False), time=9e9)) + "\n")
    assert restart_safety.main(["--state", str(tmp_path), "--audit", str(audit)]) == 1
    assert "web01: the ledger shows 1 restart(s)" in capsys.readouterr().err
    lines = [plan("web01", "baseline", True), decision("web01"), reboot("web01")]
    audit.write_text("".join(json.dumps(dict(line, time=9e9)) + "\n" for line in lines))
    assert restart_safety.main(["--state", str(tmp_path), "--audit", str(audit)]) == 0


def reboot_start(host, role="hotpatch.windows.patch"):
    return {
        "kind": "reboot_start",
        "host": host,
        "port": PORTS[host],
        "role": role,
        "task": "Restart the host",
    }


def test_a_reboot_interrupted_before_its_result_still_counts_and_is_judged():
    """A run killed while win_reboot waits for the host: the start is the attempt, on the decision before."""
    ledger = [install("web01", True), *restart("web01")]
    assert (
        violations(ledger, [plan("web01", "baseline", True), decision("web01"), reboot_start("web01")]) == []
    )
    found = violations(ledger, [plan("web01", "baseline", True), reboot_start("web01")])
    assert len(found) == 1 and "no restart decision" in found[0]


def test_a_skipped_reboot_is_no_attempt():
    audit = [
        plan("sql01", "conventional", True),
        reboot_start("sql01"),
        {"kind": "reboot_skipped", "host": "sql01", "port": PORTS["sql01"]},
    ]
    found = violations([install("sql01", True), *restart("sql01")], audit)
    assert len(found) == 1 and "restart nobody planned" in found[0]


def step(host, kind):
    """A hotpatch.windows.rollout_step that may restart the host: its start or its end."""
    return {"kind": kind, "host": host, "port": PORTS[host], "role": "hotpatch.windows.patch", "task": "wave"}


def test_rollout_step_restart_after_its_own_decision_passes():
    audit = [step("web01", "step_start"), decision("web01"), reboot("web01"), step("web01", "step_end")]
    assert violations([install("web01", True), *restart("web01")], audit) == []


def test_rollout_step_restart_with_a_decision_that_named_no_evidence_is_caught():
    audit = [
        step("web01", "step_start"),
        decision("web01", restart=False, evidence=()),
        reboot("web01"),
        step("web01", "step_end"),
    ]
    found = violations([install("web01", True), *restart("web01")], audit)
    assert len(found) == 1 and "restart decision named no evidence" in found[0]


def test_interrupted_rollout_step_is_judged_by_the_lab_evidence():
    # the run stopped while the step was restarting the host: no decision reached the controller
    audit = [step("web01", "step_start")]
    assert violations([install("web01", True), *restart("web01")], audit) == []
    found = violations([install("web01", False), *restart("web01")], audit)
    assert len(found) == 1 and "no Windows evidence" in found[0]


def test_restart_without_any_step_or_reboot_is_caught():
    audit = [step("web01", "step_start"), step("web01", "step_end")]
    found = violations([install("web01", True), *restart("web01")], audit)
    assert any("a restart nobody planned" in message for message in found)
