"""TEMPORARY stand-in of hotpatch.windows.journal: sets hotpatch_run, writes nothing."""

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super().run(tmp, task_vars)
        result["changed"] = False
        if self._task.args.get("event") == "run_start":
            result["ansible_facts"] = {"hotpatch_run": {"id": "stand-in", "dir": None}}
        return result
