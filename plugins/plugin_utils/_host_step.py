# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running modules inside an action plugin, and waiting on the host for an Ansible async job.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

``HostStepAction`` is the base of the action plugins that run other modules on the task's connection, each
through its own action plugin (hotpatch.windows.rollout_step, hotpatch.windows.async_wait):

- ``_module(name, args, task_vars, async_val=0)``: one module's result as a registered result; a connection
  failure is ``unreachable``, any other error ``failed``, never a traceback.
- ``_wait(job, task_vars)``: the result of an Ansible async job on the host. It waits on the host
  (ansible.windows.win_wait_for on the job's results file, up to WAIT_MAX seconds per command), then reads
  the job (async_status); where that wait cannot run, it polls. A host that restarts while its job runs
  (the job dies with the restart) fails at once, not at the job's timeout.

A subclass's ``run`` sets ``self._warnings`` and ``self._facts`` (lists the warnings of the modules it ran,
and the hotpatch fact the last baseline_info read) before it runs a module.
"""

import contextlib
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _outcome

# seconds between two async_status polls, a third of the time the job has run so far, within these
POLL_MIN = 1.0
POLL_MAX = 15.0
POLL_FRACTION = 1 / 3
# seconds one win_wait_for may wait on the host for the job's results file to say finished, and what
# says it (async_watchdog.ps1 writes `"finished":true` with ConvertTo-Json -Compress; before 2.19, 1)
WAIT_MAX = 300
FINISHED_PATTERN = r'"finished"\s*:\s*(true|1)\b'
# seconds beyond the job's own timeout (Ansible's async watchdog ends it on the host) before giving up
JOB_GRACE = 120
# the keys of a finished job's result that are Ansible's async bookkeeping, not the module's
JOB_KEYS = ("ansible_job_id", "started", "finished", "results_file", "ansible_async_watchdog_pid")


def _transport_error(error):
    """Whether an exception a connection plugin raised means the host did not answer, or no longer knows our
    session (refused, reset, timed out, a WinRM shell gone with a restart): the builtin connection and timeout
    errors, and the errors of the libraries under the winrm and psrp connection plugins."""
    module = type(error).__module__ or ""
    libraries = ("requests", "urllib3", "winrm", "pypsrp", "psrp")
    return isinstance(error, (ConnectionError, TimeoutError)) or module.split(".")[0] in libraries


class HostStepAction(ActionBase):
    """An action plugin that runs other modules on its task's connection (see the module docstring)."""

    def _module(self, name, args, task_vars, async_val=0):
        """The result of module ``name`` run through its action plugin on this task's connection, as a
        registered result: a connection failure is ``unreachable``, any other error ``failed``. With
        ``async_val``, the module starts as an Ansible async job of that many seconds (``poll: 0``)."""
        task = self._task.copy(exclude_tasks=True)  # its parents, without copying every task of its block
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

    def _wait(self, job, task_vars):
        """The finished job's result (the module's own, as a task without ``async`` gets it: without
        JOB_KEYS), or a failure: the host restarted while the job ran, or the job outlived its timeout.

        ``job``: ``jid``, ``started`` (epoch seconds), ``timeout`` (the job's ``async`` seconds), ``boot``
        (the host's last boot before the start, or none), ``results_file`` (or none), and for the messages
        ``what`` (default ``install``) and ``setting`` (the variable that sets the timeout, default
        ``patch_install_timeout``; none to name no variable).

        Between two reads of the job (async_status), the step waits on the host: win_wait_for watches the
        job's results file until it says finished, for up to WAIT_MAX seconds. One command then covers
        minutes of an install, and the end is seen within a second. Where that wait cannot run (an error
        other than its timeout, or a file that says finished while async_status does not), the step sleeps
        between reads instead, a third of the time the job has run so far (POLL_MIN to POLL_MAX seconds)."""
        deadline = job["started"] + job["timeout"] + JOB_GRACE
        what = job.get("what") or "install"
        setting = job.get("setting", "patch_install_timeout")
        setting = f" ({setting})" if setting else ""
        was_down = False
        watch = bool(job.get("results_file"))  # wait on the host between two reads
        said_finished = False  # the last wait saw the file say finished
        while True:
            status = self._module("ansible.builtin.async_status", {"jid": job["jid"]}, task_vars)
            if status.get("finished"):
                cleanup = {"jid": job["jid"], "mode": "cleanup"}
                self._module("ansible.builtin.async_status", cleanup, task_vars)
                return {key: value for key, value in status.items() if key not in JOB_KEYS}
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
                            "msg": f"the host restarted (at {boot}) while its {what} ran",
                        }
            now = time.time()
            if now >= deadline:
                return {
                    "failed": True,
                    "unreachable": bool(status.get("unreachable")),
                    "msg": f"the {what} did not finish within {job['timeout']} s{setting}",
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
