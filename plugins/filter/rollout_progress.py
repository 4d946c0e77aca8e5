"""The rollout_progress filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import rollout_progress

DOCUMENTATION = r"""
name: rollout_progress
short_description: The rollout after a wave - who is down now, and whether it stops
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Updates the C(hotpatch.windows.rollout_plan) result after wave O(wave) - its hosts that did not come
    back count as down for the next waves' caps, those that did no longer - and sets C(stopped) and
    C(message) when the wave's failed hosts exceed O(max_fail_percentage) percent
    (P(hotpatch.windows.rollout_stop#filter)).
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: wave, hostvars, max_fail_percentage
options:
  _input:
    description: The rollout.
    type: dict
    required: true
  wave:
    description: The wave that ended.
    type: int
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: raw
    required: true
  max_fail_percentage:
    description: C(patch_max_fail_percentage).
    type: raw
    default: 0
"""

EXAMPLES = r"""
- name: After the wave
  ansible.builtin.set_fact:
    hotpatch_rollout: >-
      {{ hostvars.localhost.hotpatch_rollout | hotpatch.windows.rollout_progress(patch_wave_number, hostvars,
      patch_max_fail_percentage) }}
  run_once: true
  delegate_to: localhost
  delegate_facts: true
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def rollout_progress_filter(rollout, wave, hostvars, max_fail_percentage=0):
    """hotpatch.windows.rollout_progress"""
    try:
        return rollout_progress(rollout, wave, hostvars, max_fail_percentage)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollout_progress: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollout_progress"""

    def filters(self):
        return {"rollout_progress": rollout_progress_filter}
