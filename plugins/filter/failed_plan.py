"""The failed_plan filter (plugins/plugin_utils/_assess.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._assess import failed_plan
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: failed_plan
short_description: The plan of a host that could not be assessed (nothing installed, never restarted)
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns a P(hotpatch.windows.host_plan#filter)-shaped plan with C(action=none), C(failed=true) and the
    status's C(cause).
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
options:
  _input:
    description: The failed C(hotpatch_status).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan a host whose assessment failed
  ansible.builtin.set_fact:
    hotpatch_plan: "{{ hotpatch_status | hotpatch.windows.failed_plan }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def failed_plan_filter(status):
    """hotpatch.windows.failed_plan"""
    try:
        return failed_plan(status)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.failed_plan: {exc}") from None


class FilterModule:
    """hotpatch.windows.failed_plan"""

    def filters(self):
        return {"failed_plan": failed_plan_filter}
