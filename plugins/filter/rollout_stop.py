"""The rollout_stop filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import rollout_stop

DOCUMENTATION = r"""
name: rollout_stop
short_description: Whether the rollout stops after a wave (its failed hosts exceed a percentage)
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns C({stop, failed, message}); C(stop) is true when the failed hosts of the wave are more than
    O(max_fail_percentage) percent of it.
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: outcomes, max_fail_percentage
options:
  _input:
    description: The wave number.
    type: int
    required: true
  outcomes:
    description: The hosts of the wave and their C(hotpatch_outcome), as a mapping of host to outcome.
    type: dict
    required: true
  max_fail_percentage:
    description: C(patch_max_fail_percentage), 0 to 100.
    type: raw
    default: 0
"""

EXAMPLES = r"""
- name: Stop the rollout when the wave failed too much
  ansible.builtin.set_fact:
    patch_stop: >-
      {{ patch_wave_number | hotpatch.windows.rollout_stop(patch_wave_outcomes, patch_max_fail_percentage) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def rollout_stop_filter(wave, outcomes, max_fail_percentage=0):
    """hotpatch.windows.rollout_stop"""
    try:
        return rollout_stop(wave, outcomes, max_fail_percentage)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollout_stop: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollout_stop"""

    def filters(self):
        return {"rollout_stop": rollout_stop_filter}
