"""The assessed_status filter (plugins/plugin_utils/_assess.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._assess import assessed_status
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: assessed_status
short_description: The host's hotpatch_status from its probe, settings check and Windows Update search
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns the M(hotpatch.windows.baseline_info) result of a host, or, for a host that could not be
    assessed, the same shape with C(failed=true), C(message) (naming the host) and C(cause) (C({code,
    message}); codes C(unreachable), C(probe_failed), C(search_failed), and the problem codes of
    M(hotpatch.windows.check_settings)).
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: host, problems, search
options:
  _input:
    description: The registered M(hotpatch.windows.baseline_info) result (unreachable or failed allowed).
    type: dict
    required: true
  host:
    description: The host's inventory name.
    type: str
    required: true
  problems:
    description: The C(problems) of M(hotpatch.windows.check_settings).
    type: list
    elements: dict
  search:
    description: The registered M(ansible.windows.win_updates) C(state=searched) result, or null.
    type: dict
"""

EXAMPLES = r"""
- name: Record the host's status
  ansible.builtin.set_fact:
    hotpatch_status: >-
      {{ probe | hotpatch.windows.assessed_status(inventory_hostname, checked.problems, search) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def assessed_status_filter(probe, host, problems=None, search=None):
    """hotpatch.windows.assessed_status"""
    try:
        return assessed_status(probe, host, problems, search)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.assessed_status: {exc}") from None


class FilterModule:
    """hotpatch.windows.assessed_status"""

    def filters(self):
        return {"assessed_status": assessed_status_filter}
