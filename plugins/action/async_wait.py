# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hotpatch.windows.async_wait: wait on the host for an Ansible async job, return its result.

The task that started the job (``async``, ``poll: 0``) returns at once, so every host of the play starts
together; this task then waits for the job without holding the controller busy: ansible.windows.win_wait_for
watches the job's results file on the host (one command for up to five minutes), then async_status reads the
job (plugins/plugin_utils/_host_step.py, shared with hotpatch.windows.rollout_step). The task's result is
the job's own: the module's result as a task without ``async`` registers it.
"""

import time

from ansible_collections.hotpatch.windows.plugins.plugin_utils._host_step import HostStepAction

ARGUMENT_SPEC = {
    "job": {"type": "dict", "required": True},
    "timeout": {"type": "int", "required": True},
    "boot": {"type": "str"},
    "name": {"type": "str", "default": "job"},
}


class ActionModule(HostStepAction):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        host = str(task_vars.get("inventory_hostname") or self._play_context.remote_addr or "the host")
        self._warnings, self._facts = [], {}
        start = args["job"]
        if args["timeout"] < 1:
            return dict(
                result, failed=True, msg=f"{host}: timeout must be at least 1 s, got {args['timeout']}"
            )
        if not start.get("ansible_job_id"):  # the start's own result: failed, unreachable or skipped
            if start.get("failed") or start.get("unreachable") or start.get("skipped"):
                answer = {key: value for key, value in start.items() if not key.startswith("_ansible")}
                return dict(result, **answer)
            return dict(
                result, failed=True, msg=f"{host}: the {args['name']} did not start as an async job (job)"
            )
        job = {
            "jid": start["ansible_job_id"],
            "started": time.time(),  # the job started earlier: its deadline here is a little later
            "timeout": args["timeout"],
            "boot": args["boot"],
            "results_file": start.get("results_file"),
            "what": args["name"],
            "setting": None,
        }
        answer = self._wait(job, task_vars)
        result.update(answer)
        if self._warnings:
            result["warnings"] = self._warnings
        return result
