"""The rollout_plan filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import rollout_plan

DOCUMENTATION = r"""
name: rollout_plan
short_description: The rollout's restart waves, from each host's outcome after the install step
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Places every host whose C(hotpatch_outcome) says Windows needs a restart (route C(wave); in check mode,
    also those whose plan expects one) into waves with the P(hotpatch.windows.waves#filter) rules, keeping
    room for the hosts that are already down.
  - Returns C({waves, order, sizes, wave_of, groups, held, down, stopped, message, batch_size,
    max_per_group, play_count}); C(order) and C(sizes) feed a play's C(hosts) and C(serial), so each serial
    batch is one wave and the controller's work per wave depends on that wave's hosts only.
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: hostvars, batch_size, max_per_group, check_mode
options:
  _input:
    description: Every host of the play, in order.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars) (C(hotpatch_outcome) and C(hotpatch_plan) of each host are read).
    type: raw
    required: true
  batch_size:
    description: C(patch_batch_size).
    type: raw
    required: true
  max_per_group:
    description: C(patch_max_per_group).
    type: int
  check_mode:
    description: True in check mode (plans' predictions place the hosts).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Plan the waves, once
  ansible.builtin.set_fact:
    hotpatch_rollout: >-
      {{ ansible_play_hosts_all | hotpatch.windows.rollout_plan(hostvars, patch_batch_size,
      patch_max_per_group) }}
  run_once: true
  delegate_to: localhost
  delegate_facts: true
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def rollout_plan_filter(hosts, hostvars, batch_size, max_per_group=None, check_mode=False):
    """hotpatch.windows.rollout_plan"""
    try:
        return rollout_plan(hosts, hostvars, batch_size, max_per_group, check_mode)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollout_plan: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollout_plan"""

    def filters(self):
        return {"rollout_plan": rollout_plan_filter}
