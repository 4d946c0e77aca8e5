"""The wave_admit filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import admit

DOCUMENTATION = r"""
name: wave_admit
short_description: Which hosts of a restart wave may restart now, counting hosts that are already down
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - A host that is down - unreachable at the start, not back from its restart - counts against
    C(patch_batch_size) and its group's C(patch_max_per_group) until it is seen healthy; a host of the wave
    that would exceed a cap is held back, with the reason.
  - Returns C({admitted, held, down}).
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: rollout
options:
  _input:
    description: The hosts of the wave.
    type: list
    elements: str
    required: true
  rollout:
    description:
      - The C(hotpatch.windows.rollout_plan) result as updated by C(hotpatch.windows.rollout_progress).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Admit the hosts of this wave
  ansible.builtin.set_fact:
    patch_admission: >-
      {{ ansible_play_batch | hotpatch.windows.wave_admit(hostvars.localhost.hotpatch_rollout) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def wave_admit_filter(wave_hosts, rollout):
    """hotpatch.windows.wave_admit"""
    try:
        return admit(wave_hosts, rollout)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.wave_admit: {exc}") from None


class FilterModule:
    """hotpatch.windows.wave_admit"""

    def filters(self):
        return {"wave_admit": wave_admit_filter}
