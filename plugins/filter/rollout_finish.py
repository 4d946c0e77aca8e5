"""The rollout_finish filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import finish

DOCUMENTATION = r"""
name: rollout_finish
short_description: A host's last outcome of the run (a host whose wave never started is not_reached)
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns the host's final C(hotpatch_outcome) - a host that still waits for its restart wave when the run
    ends (the rollout stopped, the caps held it back) gets C(status=not_reached) with the reason; a host that
    never got an outcome gets one from its status and plan.
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: host, rollout, status, plan
options:
  _input:
    description: The host's C(hotpatch_outcome) (may be undefined or empty).
    type: raw
    required: true
  host:
    description: The host's inventory name.
    type: str
    required: true
  rollout:
    description: The C(hotpatch.windows.rollout_plan) result as the waves left it.
    type: dict
  status:
    description: The host's C(hotpatch_status).
    type: dict
  plan:
    description: The host's C(hotpatch_plan).
    type: dict
"""

EXAMPLES = r"""
- name: Close the host's outcome
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ hotpatch_outcome | default({}) | hotpatch.windows.rollout_finish(inventory_hostname,
      hostvars.localhost.hotpatch_rollout | default({}), hotpatch_status | default({}),
      hotpatch_plan | default({})) }}
"""

RETURN = r"""
_value:
  description: The host's final outcome.
  type: dict
"""


def rollout_finish_filter(outcome, host, rollout=None, status=None, plan=None):
    """hotpatch.windows.rollout_finish"""
    try:
        return finish(outcome, host, rollout, status, plan)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollout_finish: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollout_finish"""

    def filters(self):
        return {"rollout_finish": rollout_finish_filter}
