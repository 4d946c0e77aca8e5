"""The in_slice filter (plugins/plugin_utils/_waves.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import in_slice

DOCUMENTATION = r"""
name: in_slice
short_description: Whether a host belongs to one slice of a rollout, keeping availability groups whole
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Splits a fleet into O(selection) (C('i/N'), the C(hotpatch_slice) variable) so that N jobs can patch it at
    once (for example N nodes of an AWX workflow) while the per-group cap C(patch_max_per_group) holds across
    the whole fleet - all hosts of one C(hotpatch_availability_group) fall into the same slice; a host without
    a group is placed by its name.
  - Every slice derives the same assignment from the host's own data alone (a stable hash), whatever else it
    sees. Without O(selection) (or with C('1/1')) every host is in.
positional: selection, group
options:
  _input:
    description: The host's inventory name.
    type: str
    required: true
  selection:
    description: C('i/N'), slice i of N (1-based); empty for no slicing.
    type: str
  group:
    description: The host's C(hotpatch_availability_group).
    type: raw
"""

EXAMPLES = r"""
- name: Leave the hosts of other slices to their own job
  ansible.builtin.meta: end_host
  when: >-
    not (inventory_hostname | hotpatch.windows.in_slice(hotpatch_slice | default(''),
    hotpatch_availability_group | default(none)))
"""

RETURN = r"""
_value:
  description: True when the host is in the slice.
  type: bool
"""


def in_slice_filter(host, selection=None, group=None):
    """hotpatch.windows.in_slice"""
    try:
        return in_slice(host, selection, group)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.in_slice: {exc}") from None


class FilterModule:
    """hotpatch.windows.in_slice"""

    def filters(self):
        return {"in_slice": in_slice_filter}
