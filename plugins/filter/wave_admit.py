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
  - A host that is down - unreachable at the start, not back from its restart, restarting - counts against
    O(batch_size) and its group's O(max_per_group) until it is seen healthy; a host of the wave that would
    exceed a cap is held back, with the reason.
  - Returns C({admitted, held, down}).
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: fleet, batch_size, max_per_group, play_count
options:
  _input:
    description: The hosts of the wave.
    type: list
    elements: str
    required: true
  fleet:
    description: Every host of the play as C({host: {group, down}}).
    type: dict
    required: true
  batch_size:
    description: C(patch_batch_size), a count or C('N%') of O(play_count).
    type: raw
    required: true
  max_per_group:
    description: C(patch_max_per_group).
    type: int
  play_count:
    description: The number of hosts a percentage batch size is taken of (default the fleet's size).
    type: int
"""

EXAMPLES = r"""
- name: Admit the hosts of this wave
  ansible.builtin.set_fact:
    patch_admission: >-
      {{ ansible_play_batch | hotpatch.windows.wave_admit(patch_fleet, patch_batch_size,
      patch_max_per_group) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def wave_admit_filter(wave_hosts, fleet, batch_size, max_per_group=None, play_count=None):
    """hotpatch.windows.wave_admit"""
    try:
        return admit(wave_hosts, fleet, batch_size, max_per_group, play_count)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.wave_admit: {exc}") from None


class FilterModule:
    """hotpatch.windows.wave_admit"""

    def filters(self):
        return {"wave_admit": wave_admit_filter}
