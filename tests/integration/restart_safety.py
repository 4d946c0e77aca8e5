"""The restart-safety invariant, checked over every lab run of the test suite.

A host restarts only when its plan said so (``reboot: true``, or the ``reboot`` action that clears a pending
restart), or when ``patch_unexpected_reboot: reboot`` applied to a host whose install needed a restart, or
when the rollback role (which the user confirmed) restarts it; and the lab's ledger shows every restart the
collection reports and no restart it did not ask for.

Inputs: the lab ledger (what the simulated hosts did) and the audit lines written by the callback plugin
``faults/callback_plugins/hotpatch_restart_audit.py`` (what the roles planned and which win_reboot ran).
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


def _justified(host: str, entry: dict, plan, unexpected: bool, ledger_needed_restart: bool) -> str | None:
    """None when this win_reboot of a collection role was allowed, else why not."""
    role = str(entry.get("role"))
    if role.endswith("rollback"):
        return None  # rollback_confirm: true is the user's order to uninstall and restart
    if plan is None:
        return f"{host}: {role} ran '{entry.get('task')}' but no hotpatch_plan was set for the host before it"
    if plan.get("reboot") is True or plan.get("action") == "reboot":
        return None
    if unexpected:
        if ledger_needed_restart:
            return None
        return (
            f"{host}: restarted by patch_unexpected_reboot=reboot, but the ledger shows no install that "
            "needed a restart"
        )
    return (
        f"{host}: {role} ran '{entry.get('task')}' although the plan said action {plan.get('action')!r}, "
        "reboot false, and patch_unexpected_reboot=reboot did not apply"
    )


def check(ledger_events: list, audit: list, ports: dict) -> dict:
    """Checks the invariant. `ports`: {lab host: its WinRM port}.

    Returns {checked: [hosts judged], violations: [messages]}. A host is judged when an ansible run with the
    audit callback touched it; a lab that only talks raw WinRM (the lab's own tests) has nothing to judge."""
    mine = [e for e in audit if e.get("host") in ports and _same_port(e.get("port"), ports[e["host"]])]
    violations = []
    checked = sorted({e["host"] for e in mine})
    for host in checked:
        entries = [e for e in mine if e["host"] == host]
        events = [e for e in ledger_events if e.get("host") == host]
        restarts = sum(1 for e in events if e.get("event") == "restart_down")
        needed = any(e.get("event") == "install" and e.get("restart") for e in events)
        plan, unexpected, outcome = None, False, None
        attempts = 0
        for entry in entries:
            if entry.get("kind") == "facts":
                facts = entry.get("facts") or {}
                if isinstance(facts.get("hotpatch_plan"), dict):
                    plan = facts["hotpatch_plan"]
                    unexpected = False  # a new assessment: a new plan
                if "patch_unexpected" in facts:
                    unexpected = str(facts["patch_unexpected"]).lower() == "true"
                if isinstance(facts.get("hotpatch_outcome"), dict):
                    outcome = facts["hotpatch_outcome"]
                continue
            if entry.get("kind") != "reboot" or entry.get("check_mode"):
                continue
            attempts += 1
            if _is_collection_role(entry.get("role")):
                reason = _justified(host, entry, plan, unexpected, needed)
                if reason:
                    violations.append(reason)
        if restarts > attempts:
            violations.append(
                f"{host}: the ledger shows {restarts} restart(s) but only {attempts} win_reboot ran on it "
                "(a restart nobody planned)"
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
