"""The assess_groups filter (plugins/plugin_utils/_assess.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._assess import assess_groups
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: assess_groups
short_description: The dynamic groups a host belongs to after its assessment
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns the names among C(hotpatch_month), C(baseline_month), C(reboot_required), C(hotpatch_compliant),
    C(hotpatch_ineligible) and C(hotpatch_failed) that fit the host's plan and status.
  - One of the decision filters the roles call between their modules; see the roles guide (docs/roles.md).
positional: status
options:
  _input:
    description: The host's plan.
    type: dict
    required: true
  status:
    description: The host's status.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Group the host
  ansible.builtin.group_by:
    key: "{{ item }}"
  loop: "{{ hotpatch_plan | hotpatch.windows.assess_groups(hotpatch_status) }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: raw
"""


def assess_groups_filter(plan, status):
    """hotpatch.windows.assess_groups"""
    try:
        return assess_groups(plan, status)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.assess_groups: {exc}") from None


class FilterModule:
    """hotpatch.windows.assess_groups"""

    def filters(self):
        return {"assess_groups": assess_groups_filter}
