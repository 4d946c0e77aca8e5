"""The slice_hosts filter (plugins/plugin_utils/_waves.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import parse_slice, slice_hosts

DOCUMENTATION = r"""
name: slice_hosts
short_description: The hosts of one slice of a rollout, keeping every availability group whole
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Splits the hosts into O(selection) (C('i/N'), the C(hotpatch_slice) variable) so that N jobs can patch a
    large fleet at once (for example N nodes of an AWX workflow) while the per-group cap
    C(patch_max_per_group) holds across the whole fleet - all hosts of one C(hotpatch_availability_group) fall
    into the same slice; a host without a group is placed by its name.
  - Every slice derives the same assignment from the per-host data alone (a stable hash), whatever the order
    or the number of hosts it sees.
  - Without O(selection) (or with C('1/1')) the hosts come back unchanged.
positional: selection, hostvars
options:
  _input:
    description: The host names.
    type: list
    elements: str
    required: true
  selection:
    description: C('i/N'), slice i of N (1-based); empty for no slicing.
    type: str
  hostvars:
    description: Ansible's C(hostvars), to read each host's C(hotpatch_availability_group).
    type: raw
"""

EXAMPLES = r"""
- name: Patch slice 2 of 3
  hosts: >-
    {{ query('ansible.builtin.inventory_hostnames', 'windows')
    | hotpatch.windows.slice_hosts(hotpatch_slice | default(''), hostvars) }}
  tasks: []
"""

RETURN = r"""
_value:
  description: The hosts of the slice, in their given order.
  type: list
  elements: str
"""


def slice_hosts_filter(hosts, selection=None, hostvars=None):
    """hotpatch.windows.slice_hosts"""
    try:
        if parse_slice(selection) is None:
            return list(hosts or [])
        groups = {}
        for host in hosts or []:
            try:
                groups[host] = hostvars[host].get("hotpatch_availability_group")
            except (KeyError, TypeError, AttributeError):
                groups[host] = None
        return slice_hosts(hosts or [], selection, groups)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.slice_hosts: {exc}") from None


class FilterModule:
    """hotpatch.windows.slice_hosts"""

    def filters(self):
        return {"slice_hosts": slice_hosts_filter}
