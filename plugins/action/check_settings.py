"""Action plugin of hotpatch.windows.check_settings: check the user's settings on the controller."""

import datetime

from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._settings import (
    KNOWN,
    host_problems,
    rollout_settings,
    shown_settings,
    unknown_variables,
)

ROLLOUT_NAMES = sorted(name for name in KNOWN if name.startswith("patch_"))
HOST_NAMES = sorted(name for name in KNOWN if name.startswith("hotpatch_"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _value(self, task_vars, name):
        value = task_vars.get(name)
        return self._templar.template(value) if value is not None else None

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        _spec, args = self.validate_argument_spec(
            argument_spec={
                "scope": {"type": "str", "choices": ["rollout", "host"], "default": "host"},
                "now": {"type": "str"},
                "names": {"type": "list", "elements": "str"},
            }
        )
        host = task_vars.get("inventory_hostname", "the host")
        names = args["names"] if args["names"] is not None else list(task_vars)
        warnings = unknown_variables(names)
        if warnings:
            result["warnings"] = warnings
        if args["scope"] == "rollout":
            settings = {name: self._value(task_vars, name) for name in ROLLOUT_NAMES if name in task_vars}
            try:
                result["settings"] = shown_settings(rollout_settings(settings))
            except HotpatchError as error:
                result.update(failed=True, msg=f"refused before any host changes: {error}")
            return result
        settings = {name: self._value(task_vars, name) for name in HOST_NAMES if name in task_vars}
        controller_now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        problems = host_problems(
            host, settings, args["now"], controller_now, check_mode=bool(self._play_context.check_mode)
        )
        result["problems"] = problems
        result["ok"] = not problems
        return result
