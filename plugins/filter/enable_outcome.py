"""The enable_outcome filter (plugins/plugin_utils/_enable.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import enable_outcome
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: enable_outcome
short_description: A host's outcome after P(hotpatch.windows.enable#role) wrote its registry values
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns the host's C(hotpatch_outcome) in the rollout's shape (see
    P(hotpatch.windows.rollout_start#filter)) from its plan and the registered C(ansible.windows.win_regedit)
    loop.
  - A host goes into a restart wave (route C(wave)) only where a value was written and Windows runs something
    else until the next boot; C(restart.pending) names the changes and C(restart.boot) the boot they were
    written in, which P(hotpatch.windows.restart_decision#filter) checks right before the restart.
  - A refused host is C(refused), a host with nothing to change C(unchanged), a failed write C(failed) (never
    restarted).
positional: host, status, plan, registry, check_mode
options:
  _input:
    description: The host's inventory name.
    type: str
    required: true
  status:
    description: The host's C(hotpatch_status).
    type: dict
    required: true
  plan:
    description: The P(hotpatch.windows.enable_plan#filter) result.
    type: dict
    required: true
  registry:
    description: The registered C(ansible.windows.win_regedit) loop over the plan's C(registry).
    type: dict
  check_mode:
    description: Whether the run is in check mode (nothing was written).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Route the host after the registry step
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ inventory_hostname | hotpatch.windows.enable_outcome(hotpatch_status, hotpatch_plan, enable_registry,
      ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def enable_outcome_filter(host, status, plan, registry=None, check_mode=False):
    """hotpatch.windows.enable_outcome"""
    try:
        return enable_outcome(host, status, plan, registry, check_mode)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.enable_outcome: {exc}") from None


class FilterModule:
    """hotpatch.windows.enable_outcome"""

    def filters(self):
        return {"enable_outcome": enable_outcome_filter}
