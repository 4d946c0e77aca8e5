"""The waves filter: which hosts restart together."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import plan_waves

DOCUMENTATION = r"""
name: waves
short_description: Split the hosts that restart into waves capped by size and availability group
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes the plans of the fleet (inventory_hostname to P(hotpatch.windows.host_plan#filter) result, with
    C(group) set from C(hotpatch_availability_group)) and returns the waves of hosts that restart.
  - Only plans with C(reboot=true) are placed. Hosts are taken in hostname order and each goes into the
    earliest wave with room, so the result depends on per-host data alone, never on input order
    (safe under AWX job slicing).
positional: batch_size, max_per_group
options:
  _input:
    description: Mapping of inventory_hostname to plan (C(reboot), optional C(group)).
    type: dict
    required: true
  batch_size:
    description:
      - The largest wave, a count (at least 1) or a percentage C('N%') of the hosts in the input
        (rounded down, at least 1).
    type: raw
    required: true
  max_per_group:
    description:
      - At most this many hosts of one C(hotpatch_availability_group) in a wave; null for no cap. Hosts
        without a group are not capped.
    type: int
"""

EXAMPLES = r"""
- name: Waves of at most 25% of the fleet, one host per availability group
  ansible.builtin.set_fact:
    restart_waves: >-
      {{ dict(ansible_play_hosts_all
      | zip(ansible_play_hosts_all | map('extract', hostvars, 'hotpatch_plan')))
      | hotpatch.windows.waves('25%', 1) }}
"""

RETURN = r"""
_value:
  description: The waves, in order; each a list of inventory hostnames.
  type: list
  elements: list
"""


def waves_filter(plans, batch_size=None, max_per_group=None):
    """The restart waves of a fleet's plans."""
    if batch_size is None:
        raise AnsibleFilterError("hotpatch.windows.waves: batch_size is required (a count or 'N%')")
    try:
        return plan_waves(plans, batch_size, max_per_group)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.waves: {exc}") from None


class FilterModule:
    """hotpatch.windows.waves"""

    def filters(self):
        return {"waves": waves_filter}
