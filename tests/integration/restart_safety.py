"""The restart-safety invariant, checked over every lab run of the test suite.

A host restarts only on Windows' own evidence. The lab is the judge: a restart (``restart_down`` in its
ledger) is justified only when, since the host's previous restart (or the lab's start), the lab recorded
something that makes Windows need one - an install that set its restart flags (``install`` with
``restart: true``), an uninstall (the rollback role, which the user confirmed), a change that takes effect
at the next boot (``pending``), or a restart already pending when the lab started (``start`` with ``cbs`` or
``windows_update``). PendingFileRenameOperations and a pending computer rename are not evidence.

And the collection's side must agree: every win_reboot a collection role ran followed a restart decision
(``patch_restart``, or the ``decision`` of the hotpatch.windows.rollout_step that restarted it) that named
Windows' evidence, and the ledger shows every restart the collection reports. A rollout_step interrupted
before its result never reported its decision: the lab's own evidence judges its restarts.

Inputs: the lab ledger (what the simulated hosts did) and the audit lines written by the callback plugin
``faults/callback_plugins/hotpatch_restart_audit.py`` (what the roles decided and which win_reboot ran).
tests/integration/conftest.py enables the callback and calls `check_lab` when every `Lab` block ends.
"""

import argparse
import json
import os
import sys
from pathlib import Path

COLLECTION_ROLE_PREFIX = "hotpatch.windows."


class RestartSafetyError(AssertionError):
    """A lab run broke the restart-safety invariant; the message lists each host and what was wrong."""


def read_audit(path, offset: int = 0, since: float = 0.0) -> list:
    """The audit entries written after byte `offset` of `path` and at or after time `since` (epoch seconds);
    a missing file has none."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", errors="replace")
    entries = []
    for line in text.splitlines():
        if line.strip():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line being written by a run that is still going
            if entry.get("time", since) >= since:
                entries.append(entry)
    return entries


def _same_port(entry_port, lab_port) -> bool:
    if entry_port is None:
        return True
    try:
        return int(entry_port) == int(lab_port)
    except (TypeError, ValueError):
        return False


def _is_collection_role(role) -> bool:
    return bool(role) and str(role).startswith(COLLECTION_ROLE_PREFIX)


EVIDENCE_FLAGS = {"cbs", "windows_update"}
EVIDENCE_EVENTS = {"install", "uninstall", "pending"}


def _lab_evidence(events) -> list:
    """Per restart of one host (in ledger order): the evidence the lab recorded before it, or None."""
    verdicts = []
    evidence = None
    for event in events:
        kind = event.get("event")
        if kind == "start" and EVIDENCE_FLAGS & set(event.get("reboot_pending") or []):
            evidence = f"a restart was pending when the lab started ({', '.join(event['reboot_pending'])})"
        elif kind == "install" and event.get("restart"):
            evidence = evidence or f"install of {event.get('kb')} needs a restart"
        elif kind in EVIDENCE_EVENTS - {"install"}:
            evidence = evidence or f"{kind} {event.get('kb') or event.get('what') or ''}".strip()
        elif kind == "restart_down":
            verdicts.append(evidence)
            evidence = None
    return verdicts


def _justified(host: str, entry: dict, decision) -> str | None:
    """None when this win_reboot of a collection role followed a decision that named Windows' evidence."""
    role = str(entry.get("role"))
    if role.endswith("rollback"):
        return None  # the user confirmed the change (rollback_confirm); the lab judges it
    if not isinstance(decision, dict):
        return f"{host}: {role} ran '{entry.get('task')}' but no restart decision (patch_restart) preceded it"
    if str(decision.get("restart")).lower() != "true" or not decision.get("evidence"):
        return (
            f"{host}: {role} ran '{entry.get('task')}' although the restart decision named no evidence: "
            f"{decision.get('message')!r}"
        )
    return None


def check(ledger_events: list, audit: list, ports: dict) -> dict:
    """Checks the invariant. `ports`: {lab host: its WinRM port}.

    Returns {checked: [hosts judged], violations: [messages]}. A host an ansible run with the audit callback
    touched is judged by the lab's own evidence and on the collection's side; a lab that only talks raw WinRM
    (the lab's own tests) has nothing to judge.
    """
    mine = [e for e in audit if e.get("host") in ports and _same_port(e.get("port"), ports[e["host"]])]
    violations = []
    checked = []
    for host in sorted({e["host"] for e in mine}):
        events = [e for e in ledger_events if e.get("host") == host]
        entries = [e for e in mine if e["host"] == host]
        checked.append(host)
        restarts = sum(1 for e in events if e.get("event") == "restart_down")
        decision, outcome, attempts, started, ended = None, None, [], [], 0
        steps_started, steps_ended = [], 0
        for entry in entries:
            if entry.get("kind") == "step_start":
                steps_started.append(entry)
                continue
            if entry.get("kind") == "step_end":
                steps_ended += 1
                continue
            if entry.get("kind") == "reboot_start":
                started.append(entry)
                continue
            if entry.get("kind") == "reboot_skipped":
                ended += 1
                continue
            if entry.get("kind") == "facts":
                facts = entry.get("facts") or {}
                if isinstance(facts.get("patch_restart"), dict):
                    decision = facts["patch_restart"]
                if isinstance(facts.get("hotpatch_outcome"), dict):
                    outcome = facts["hotpatch_outcome"]
                continue
            if entry.get("kind") != "reboot" or entry.get("check_mode"):
                continue
            ended += 1
            attempts.append(entry.get("role"))
            if _is_collection_role(entry.get("role")):
                reason = _justified(host, entry, decision)
                if reason:
                    violations.append(reason)
        # a win_reboot started but never answered (the run was interrupted): it ran, on the same decision
        for entry in started[ended:]:
            attempts.append(entry.get("role"))
            if _is_collection_role(entry.get("role")):
                reason = _justified(host, dict(entry, status="interrupted"), decision)
                if reason:
                    violations.append(reason)
        # a rollout_step (which restarts inside one task) started but never answered: it decided and may have
        # restarted the host (up to twice) before the interruption; its decision never reached the controller,
        # so the lab's own evidence below judges those restarts
        for entry in steps_started[steps_ended:]:
            attempts += [entry.get("role")] * 2
        # the lab judges every restart a collection role made (a test's own win_reboot is the test's business)
        for index, verdict in enumerate(_lab_evidence(events), start=1):
            role = attempts[index - 1] if index <= len(attempts) else None
            if verdict is None and _is_collection_role(role):
                violations.append(
                    f"{host}: restart {index} in the ledger had no Windows evidence before it (no install "
                    "that needed a restart, no uninstall, no restart pending)"
                )
        if restarts > len(attempts):
            violations.append(
                f"{host}: the ledger shows {restarts} restart(s) but only {len(attempts)} win_reboot ran on "
                "it (a restart nobody planned)"
            )
        if outcome and str(outcome.get("restarted")).lower() == "true" and restarts == 0:
            violations.append(f"{host}: hotpatch_outcome says restarted, but the ledger shows no restart")
    return {"checked": checked, "violations": violations}


def check_lab(lab, audit_path, offset: int = 0) -> dict:
    """Checks one `tests.lab.Lab` after its block; writes the result to STATE_DIR/restart_safety.json."""
    ports = lab.ports() if lab.info else {}
    result = check(lab.ledger().events, read_audit(audit_path, offset), ports)
    (Path(lab.state_dir) / "restart_safety.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def assert_safe(result: dict, where: str = "lab run") -> None:
    if result["violations"]:
        raise RestartSafetyError(
            f"restart-safety invariant broken in {where}:\n  " + "\n  ".join(result["violations"])
        )


def main(argv=None) -> int:
    """`python -m tests.integration.restart_safety --state DIR`: checks a lab started with the command line
    (`python -m tests.lab start`, as the molecule scenarios do) before its state directory is removed."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.integration.restart_safety", description=main.__doc__
    )
    parser.add_argument("--state", required=True, help="the lab's state directory")
    parser.add_argument(
        "--audit",
        default=os.environ.get("HOTPATCH_RESTART_AUDIT"),
        help="the audit file (default: $HOTPATCH_RESTART_AUDIT, set by tests/integration/conftest.py)",
    )
    args = parser.parse_args(argv)
    state = Path(args.state)
    if not args.audit:
        print("restart-safety: no audit file (not run under the test suite): nothing to check")
        return 0
    try:
        lab = json.loads((state / "lab.json").read_text())
    except (OSError, ValueError) as exc:
        print(f"restart-safety: cannot read {state / 'lab.json'}: {exc}", file=sys.stderr)
        return 2
    from tests.lab.ledger import Ledger

    ports = {name: entry["port"] for name, entry in lab["hosts"].items()}
    since = (state / "lab.json").stat().st_mtime - 1
    result = check(Ledger(state).events, read_audit(args.audit, since=since), ports)
    (state / "restart_safety.json").write_text(json.dumps(result, indent=2) + "\n")
    if result["violations"]:
        print("restart-safety invariant broken:\n  " + "\n  ".join(result["violations"]), file=sys.stderr)
        return 1
    print(f"restart-safety: {len(result['checked'])} host(s) checked, no unplanned restart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
