"""Callback plugin for the test suite: records, per lab host, what the restart-safety invariant needs.

Enabled by tests/integration/conftest.py for every lab run (ANSIBLE_CALLBACKS_ENABLED), it appends one JSON
line to the file named by HOTPATCH_RESTART_AUDIT for each result that matters: the facts the roles set
(hotpatch_plan, hotpatch_outcome, patch_unexpected) and every win_reboot attempt. It never prints, so it
works beside any stdout callback. tests/integration/restart_safety.py reads the file.
"""

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: hotpatch_restart_audit
    type: aggregate
    short_description: record plans and restarts for the restart-safety invariant (tests only)
    description:
      - Appends JSON lines to the file named by the environment variable HOTPATCH_RESTART_AUDIT.
    requirements:
      - HOTPATCH_RESTART_AUDIT set to a writable file path
"""

FACT_KEYS = ("hotpatch_plan", "hotpatch_outcome", "patch_restart")
REBOOT_ACTIONS = ("win_reboot",)
# hotpatch.windows.rollout_step runs win_reboot inside one task: its result carries the restart decision
# (``decision``) and each restart it made (``steps.reboot``, ``steps.reboot_again``).
STEP_ACTIONS = ("rollout_step",)
RESTARTING_STEPS = ("restart", "wave")


def _restarting_step(task) -> bool:
    """A rollout_step task that may restart the host (outside check mode)."""
    if str(task.action or "").split(".")[-1] not in STEP_ACTIONS or _check_mode(task):
        return False
    return str((task.args or {}).get("step")) in RESTARTING_STEPS


def _check_mode(task) -> bool:
    """Whether the task ran in check mode (--check, unless the task says check_mode: false)."""
    own = getattr(task, "check_mode", None)
    if isinstance(own, bool):
        return own
    return bool(context.CLIARGS.get("check", False))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hotpatch_restart_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("HOTPATCH_RESTART_AUDIT")

    def _write(self, entry: dict) -> None:
        if not self._path:
            return
        entry["time"] = time.time()
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")

    def _record(self, result, status: str) -> None:
        host = getattr(result, "host", None) or result._host
        task = getattr(result, "task", None) or result._task
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        role = task._role.get_name() if getattr(task, "_role", None) else None
        base = {
            "host": host.get_name(),
            "port": host.vars.get("ansible_port"),
            "role": role,
            "task": task.get_name(),
        }
        action = str(task.action or "")
        short = action.split(".")[-1]
        # win_reboot, and win_updates with reboot: true when it restarted the host
        restarted_by_updates = short == "win_updates" and bool(data.get("rebooted"))
        if (short in REBOOT_ACTIONS or restarted_by_updates) and status != "skipped":
            self._write(
                dict(
                    base,
                    kind="reboot",
                    status=status,
                    rebooted=bool(data.get("rebooted")),
                    check_mode=_check_mode(task),
                )
            )
        if short in STEP_ACTIONS and status != "skipped":
            self._record_step(base, task, data)
        facts = data.get("ansible_facts") or {}
        picked = {key: facts[key] for key in FACT_KEYS if key in facts}
        if picked and status == "ok":
            self._write(dict(base, kind="facts", facts=picked))

    def _record_step(self, base, task, data):
        """A rollout_step result: its decision first, then each restart it made, then that it ended."""
        if isinstance(data.get("decision"), dict):
            self._write(dict(base, kind="facts", facts={"patch_restart": data["decision"]}))
        steps = data.get("steps") or {}
        for name in ("reboot", "reboot_again"):
            step = steps.get(name)
            if isinstance(step, dict):
                failed = step.get("failed") or step.get("unreachable")
                self._write(
                    dict(
                        base,
                        kind="reboot",
                        status="failed" if failed else "ok",
                        rebooted=bool(step.get("rebooted")),
                        check_mode=_check_mode(task),
                    )
                )
        if _restarting_step(task):
            self._write(dict(base, kind="step_end"))

    def v2_runner_on_start(self, host, task):
        """A win_reboot sent to a host: a run interrupted before its result still started it. A rollout_step
        that may restart the host is recorded as ``step_start``."""
        kind = None
        if _restarting_step(task):
            kind = "step_start"
        elif str(task.action or "").split(".")[-1] in REBOOT_ACTIONS and not _check_mode(task):
            kind = "reboot_start"
        if kind:
            role = task._role.get_name() if getattr(task, "_role", None) else None
            self._write(
                {
                    "host": host.get_name(),
                    "port": host.vars.get("ansible_port"),
                    "role": role,
                    "task": task.get_name(),
                    "kind": kind,
                }
            )

    def v2_runner_on_skipped(self, result):
        task = getattr(result, "task", None) or result._task
        if str(task.action or "").split(".")[-1] in REBOOT_ACTIONS:
            host = getattr(result, "host", None) or result._host
            self._write(
                {"host": host.get_name(), "port": host.vars.get("ansible_port"), "kind": "reboot_skipped"}
            )

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
