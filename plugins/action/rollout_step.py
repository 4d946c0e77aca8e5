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

import contextlib
import datetime
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _outcome
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

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
# staged: seconds between two async_status polls, a third of the time the job has run so far, within these
POLL_MIN = 1.0
POLL_MAX = 15.0
POLL_FRACTION = 1 / 3
# staged: seconds one win_wait_for may wait on the host for the job's results file to say finished, and what
# says it (async_watchdog.ps1 writes `"finished":true` with ConvertTo-Json -Compress; before 2.19, 1)
WAIT_MAX = 300
FINISHED_PATTERN = r'"finished"\s*:\s*(true|1)\b'
# staged: seconds beyond the job's own timeout (Ansible's async watchdog ends it on the host) before giving up
JOB_GRACE = 120


def _transport_error(error):
    """Whether an exception a connection plugin raised means the host did not answer, or no longer knows our
    session (refused, reset, timed out, a WinRM shell gone with a restart): the builtin connection and timeout
    errors, and the errors of the libraries under the winrm and psrp connection plugins."""
    module = type(error).__module__ or ""
    libraries = ("requests", "urllib3", "winrm", "pypsrp", "psrp")
    return isinstance(error, (ConnectionError, TimeoutError)) or module.split(".")[0] in libraries


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _truncate(text, limit=REBOOT_MESSAGE_CHARS):
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    # ------------------------------------------------------------------ the modules the steps run
    def _module(self, name, args, task_vars, async_val=0):
        """The result of module ``name`` run through its action plugin on this task's connection, as a
        registered result: a connection failure is ``unreachable``, any other error ``failed``. With
        ``async_val``, the module starts as an Ansible async job of that many seconds (``poll: 0``)."""
        task = self._task.copy()
        task.args = dict(args)
        if async_val:
            task.async_val, task.poll = async_val, 0
        loader = self._shared_loader_obj.action_loader
        if not loader.has_plugin(name):  # a module without an action plugin of its own (win_wait_for)
            task.action, name = name, "ansible.legacy.normal"
        action = loader.get(
            name,
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        try:
            result = dict(action.run(task_vars=task_vars) or {})
        except AnsibleConnectionFailure as error:
            result = {"unreachable": True, "msg": str(error)}
        except AnsibleError as error:
            result = {"failed": True, "msg": str(error)}
        except Exception as error:  # a connection plugin's own exception (requests, pypsrp): no traceback
            result = {"failed": True, "msg": f"{type(error).__name__}: {error}"}
            if _transport_error(error):
                result["connection_error"] = True  # the host did not answer (down, restarting, refused)
        finally:
            with contextlib.suppress(Exception):  # cleaning a temporary folder never fails the step
                action.cleanup()
        for warning in result.pop("warnings", None) or []:
            if warning not in self._warnings:
                self._warnings.append(warning)
        facts = result.pop("ansible_facts", None) or {}
        if facts.get("hotpatch") is not None:
            self._facts["hotpatch"] = facts["hotpatch"]
        result.pop("invocation", None)
        return result

    def _probe(self, task_vars):
        return self._module("hotpatch.windows.baseline_info", {}, task_vars)

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

    def _wait(self, job, task_vars):
        """The finished job's result (win_updates' own, as ``install`` gets it), or a failure: the host
        restarted while the job ran, or the job outlived its timeout.

        Between two reads of the job (async_status), the step waits on the host: win_wait_for watches the
        job's results file until it says finished, for up to WAIT_MAX seconds. One command then covers
        minutes of an install, and the end is seen within a second. Where that wait cannot run (an error
        other than its timeout, or a file that says finished while async_status does not), the step sleeps
        between reads instead, a third of the time the job has run so far (POLL_MIN to POLL_MAX seconds)."""
        deadline = job["started"] + job["timeout"] + JOB_GRACE
        was_down = False
        watch = bool(job.get("results_file"))  # wait on the host between two reads
        said_finished = False  # the last wait saw the file say finished
        while True:
            status = self._module("ansible.builtin.async_status", {"jid": job["jid"]}, task_vars)
            if status.get("finished"):
                cleanup = {"jid": job["jid"], "mode": "cleanup"}
                self._module("ansible.builtin.async_status", cleanup, task_vars)
                return {k: v for k, v in status.items() if k not in ("started", "finished", "results_file")}
            if self._unanswered(status):
                was_down = True
            elif status.get("failed"):
                return status
            elif was_down:  # back after an outage: a restart ends the job, an adapter reset does not
                boot = (self._probe(task_vars).get("facts") or {}).get("last_boot")
                if boot:  # read: else ask again at the next poll
                    was_down = False
                    if _outcome.booted_since(job.get("boot"), boot):
                        return {
                            "failed": True,
                            "msg": f"the host restarted (at {boot}) while its install ran",
                        }
            now = time.time()
            if now >= deadline:
                return {
                    "failed": True,
                    "unreachable": bool(status.get("unreachable")),
                    "msg": f"the install did not finish within {job['timeout']} s (patch_install_timeout)",
                }
            if watch and not was_down:
                seconds = max(1, int(min(WAIT_MAX, deadline - now)))
                watched = self._watch(job["results_file"], seconds, task_vars)
                if watched == "running" or (watched == "finished" and not said_finished):
                    said_finished = watched == "finished"
                    continue  # read the job now (then wait again if it still runs)
                if watched == "unanswered":
                    was_down = True
                else:  # the wait failed, or the file said finished twice while the job did not: poll
                    watch = False
            time.sleep(min(POLL_MAX, max(POLL_MIN, (now - job["started"]) * POLL_FRACTION), deadline - now))

    def _unanswered(self, result):
        """Whether the host did not answer (down, restarting, refused); the next command opens a new session
        (a restart took the old WinRM shell with it)."""
        if not (result.get("unreachable") or result.get("connection_error")):
            return False
        with contextlib.suppress(Exception):
            self._connection.reset()
        return True

    def _watch(self, results_file, seconds, task_vars):
        """Waits on the host, up to ``seconds``, for the job's results file to say finished: ``finished``,
        ``running`` (the wait ran out), ``unanswered`` (the host did not answer) or ``error``."""
        args = {"path": results_file, "regex": FINISHED_PATTERN, "timeout": seconds, "sleep": 1}
        result = self._module("ansible.windows.win_wait_for", args, task_vars)
        if self._unanswered(result):
            return "unanswered"
        if not result.get("failed"):
            return "finished"
        if float(result.get("elapsed") or 0) >= seconds - 1:
            return "running"
        return "error"

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
