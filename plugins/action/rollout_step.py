# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hotpatch.windows.rollout_step: one host's step of the patch rollout, as one task.

Each step runs the modules the role used to run as separate tasks (ansible.windows.win_updates,
hotpatch.windows.baseline_info, ansible.windows.win_reboot, hotpatch.windows.journal) through their own
action plugins, on the task's connection, and decides between them with the same plain-Python decisions the
role's filters expose (plugins/plugin_utils/_outcome.py). One task per host and step is what keeps the
controller's cost per wave down to the wave's hosts (docs/performance.md): every task Ansible dispatches to
a host forks a worker, whatever the task does.

The steps:

- ``install``: route the host (rollout_start), install without a restart (win_updates), read Windows'
  restart evidence (baseline_info) unless the install already gave it, decide (install_outcome).
- ``start`` and ``staged``: ``install`` in two tasks, so that a fork is not held while Windows installs.
  ``start`` routes the host and starts win_updates as an Ansible async job on the host (``async``, ``poll:
  0``); ``staged`` waits for that job, then reads the evidence and decides as ``install`` does. It waits on
  the host: ansible.windows.win_wait_for watches the job's results file for up to WAIT_MAX seconds (one
  command, checked every second on the host), then async_status reads the job; where that wait cannot run,
  async_status polls, less often as the install goes on. A host that restarts while its job runs (the job
  dies with the restart) is failed, not waited for until the job's timeout.
- ``check``: read the host right before its restart and decide from Windows' evidence and the maintenance
  window now (restart_decision).
- ``restart``: journal the restart, restart, install what waited for the restart (plan action ``reboot``),
  restart again when that install says so, read the host again, journal the restart's end.
- ``wave``: ``check``, then ``restart`` when Windows still needs it, then the host's wave outcome
  (wave_outcome). For a host the caps hold back, or in check mode, only the outcome: nothing is contacted.

A step never fails its task for a host that failed: the failure is the host's outcome (with ``down`` for a
host that did not come back), as the role's ``rescue`` recorded it before.
"""

import datetime
import time

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _outcome
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._host_step import HostStepAction

STEPS = ("install", "start", "staged", "check", "restart", "wave")
ARGUMENT_SPEC = {
    "step": {"type": "str", "required": True, "choices": list(STEPS)},
    "status": {"type": "dict", "default": {}},
    "plan": {"type": "dict", "default": {}},
    "outcome": {"type": "dict", "default": {}},
    "assessed_at": {"type": "str"},
    "installed_at": {"type": "str"},
    "window": {"type": "raw"},
    "unexpected_reboot": {"type": "str", "default": "reboot", "choices": list(_outcome.UNEXPECTED_POLICIES)},
    "wave": {"type": "int"},
    "decision": {"type": "dict"},
    "admission": {"type": "dict"},
    "reboot_timeout": {"type": "int", "default": 1800},
    "install_timeout": {"type": "int", "default": 14400},
    "job": {"type": "dict"},
}
REBOOT_MESSAGE_CHARS = 200


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _truncate(text, limit=REBOOT_MESSAGE_CHARS):
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ActionModule(HostStepAction):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _install(self, plan, task_vars, async_val=0):
        install = plan.get("install") or {}
        args = {"state": "installed", "category_names": install.get("category_names") or [], "reboot": False}
        for name in ("accept_list", "reject_list"):
            if install.get(name):
                args[name] = install[name]
        return self._module("ansible.windows.win_updates", args, task_vars, async_val)

    def _reboot(self, message, task_vars):
        args = {"reboot_timeout": self._args["reboot_timeout"], "msg": message}
        return self._module("ansible.windows.win_reboot", args, task_vars)

    def _journal(self, event, data, task_vars):
        result = self._module("hotpatch.windows.journal", {"event": event, "data": data}, task_vars)
        if result.get("failed"):
            self._warnings.append(f"the journal could not record {event}: {result.get('msg')}")

    # ------------------------------------------------------------------ the steps
    def _route(self):
        """The host's first outcome (from its plan and maintenance window), and whether it installs now."""
        args = self._args
        outcome = _outcome.new_outcome(
            self._host, args["status"], args["plan"], args["window"], self._check_mode, args["assessed_at"]
        )
        return outcome, outcome.get("route") == "install" and not self._check_mode

    def step_install(self, task_vars):
        """Route, install without a restart, read the evidence, decide."""
        outcome, installs = self._route()
        if not installs:
            return {"outcome": outcome}, {}
        return self._decide_install(outcome, self._install(self._args["plan"], task_vars), task_vars)

    def _decide_install(self, outcome, install, task_vars):
        """After the install: read the host again (unless the install's reboot_required already confirms a
        planned restart: the host goes to its wave on that evidence and is read right before its restart),
        then decide."""
        plan = self._args["plan"]
        after = None
        if not (plan.get("reboot") and install.get("reboot_required")):
            after = self._probe(task_vars)
        outcome = _outcome.after_install(
            outcome, self._host, plan, install, after, self._args["unexpected_reboot"]
        )
        return {"outcome": outcome, "installed_at": _now()}, {"install": install, "after": after}

    def step_start(self, task_vars):
        """Route, then start the install as an async job on the host; ``job`` says which (none: nothing to
        wait for, the outcome is already the host's, as for a failed start)."""
        args, host = self._args, self._host
        outcome, installs = self._route()
        if not installs:
            return {"outcome": outcome, "job": None}, {}
        started = time.time()
        start = self._install(args["plan"], task_vars, async_val=args["install_timeout"])
        if not self._succeeded(start) or not start.get("ansible_job_id"):
            if self._succeeded(start):
                start = {"failed": True, "msg": "win_updates did not start an async job"}
            policy = args["unexpected_reboot"]
            outcome = _outcome.after_install(outcome, host, args["plan"], start, None, policy)
            return {"outcome": outcome, "job": None}, {"start": start}
        job = {
            "jid": start["ansible_job_id"],
            "started": started,
            "timeout": args["install_timeout"],
            "boot": (args["status"].get("facts") or {}).get("last_boot"),
            "results_file": start.get("results_file"),
        }
        return {"outcome": outcome, "job": job}, {"start": start}

    def step_staged(self, task_vars):
        """Wait for the job ``start`` started, then read the evidence and decide as ``install`` does."""
        outcome, job = self._args["outcome"], self._args["job"]
        if not job:
            return {"outcome": outcome}, {}
        return self._decide_install(outcome, self._wait(job, task_vars), task_vars)

    def step_check(self, task_vars):
        """Read the host right before its restart; decide from Windows' evidence and the window now."""
        args = self._args
        now = self._probe(task_vars)
        decision = _outcome.restart_decision(
            args["outcome"], now, args["installed_at"], args["window"], self._host
        )
        return {"decision": decision}, {"now": now}

    def step_restart(self, task_vars, decision=None):
        """Restart, install what waited, restart again if needed, read again; journaled. ``decision``: the
        check's decision (else the option ``decision``)."""
        args = self._args
        wave = args["wave"]
        decision = decision or args["decision"] or {}
        plan = args["plan"]
        steps = {}
        self._journal("restart_begin", {"wave": wave, "evidence": decision.get("evidence") or []}, task_vars)
        try:
            message = f"hotpatch.windows is restarting this host: {_truncate(decision.get('message'))}"
            steps["reboot"] = self._reboot(message, task_vars)
            if self._succeeded(steps["reboot"]):
                if plan.get("action") == "reboot" and (plan.get("install") or {}).get("category_names"):
                    steps["install"] = self._install(plan, task_vars)
                install = steps.get("install")
                if install is not None and self._succeeded(install) and install.get("reboot_required"):
                    text = "hotpatch.windows is restarting this host to finish its updates (reboot_required)"
                    steps["reboot_again"] = self._reboot(text, task_vars)
                if all(self._succeeded(steps.get(name)) for name in ("install", "reboot_again")):
                    steps["after"] = self._probe(task_vars)
        finally:
            reboot = steps.get("reboot") or {}
            ended = {
                "wave": wave,
                "elapsed": reboot.get("elapsed"),
                "ok": self._succeeded(reboot, absent=False),
            }
            self._journal("restart_end", ended, task_vars)
        return {}, steps

    def step_wave(self, task_vars):
        """The host's whole wave: check, restart when Windows still needs it, its wave outcome."""
        args = self._args
        admission = args["admission"] or {}
        decision, steps = None, {}
        if self._host in (admission.get("admitted") or []) and not self._check_mode:
            facts, steps = self.step_check(task_vars)
            decision = facts["decision"]
            if decision.get("restart"):
                _facts, more = self.step_restart(task_vars, decision)
                steps.update(more)
        outcome = _outcome.after_wave(
            args["outcome"],
            self._host,
            args["wave"],
            decision,
            {name: steps.get(name) for name in ("reboot", "install", "reboot_again")},
            steps.get("after"),
            [],
            admission,
            self._check_mode,
        )
        return {"outcome": outcome, "decision": decision}, steps

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    def _succeeded(result, absent=True):
        """Whether a step's result succeeded; a step that did not run counts as ``absent``."""
        if result is None:
            return absent
        return not (result.get("failed") or result.get("unreachable"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _spec, self._args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        self._host = str(task_vars.get("inventory_hostname") or self._play_context.remote_addr or "the host")
        self._check_mode = bool(self._task.check_mode)
        self._warnings, self._facts = [], {}
        step = self._args["step"]
        if step in ("restart", "wave") and self._args["wave"] is None:
            return dict(result, failed=True, msg=f"{self._host}: step={step} needs the option wave")
        try:
            facts, steps = getattr(self, f"step_{step}")(task_vars)
        except HotpatchError as error:
            return dict(result, failed=True, msg=f"{self._host}: {error}")
        outcome = facts.get("outcome") or {}
        restarted = any((steps.get(name) or {}).get("rebooted") for name in ("reboot", "reboot_again"))
        result.update(
            facts, changed=bool(restarted or (steps.get("install") or {}).get("changed")), steps=steps
        )
        if self._facts:  # the host's state read last (baseline_info's fact), as the module itself sets it
            result["ansible_facts"] = self._facts
        if outcome.get("message"):
            result["msg"] = outcome["message"]
        if self._warnings:
            result["warnings"] = self._warnings
        return result
