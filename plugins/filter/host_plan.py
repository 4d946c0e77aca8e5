"""The host_plan filter: what one host does this cycle."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._plan import host_plan

DOCUMENTATION = r"""
name: host_plan
short_description: What a Windows host installs this release cycle and whether it restarts
version_added: 0.1.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Turns a host's M(hotpatch.windows.baseline_info) result (C(hotpatch_status)) and, optionally, the updates
    Windows Update offers it into a plan - C(none), C(hotpatch), C(baseline), C(reboot) or C(conventional) -
    and the C(category_names), C(accept_list) and C(reject_list) to give M(ansible.windows.win_updates).
  - Eligible host in a baseline cycle (planned or unplanned) - C(baseline), restart.
  - Eligible host in a hotpatch cycle on the current baseline - C(hotpatch), no restart; non-security, .NET,
    driver and firmware updates wait for the next baseline unless O(policy.defer_non_security=false)
    (then the host restarts only if one of them needs it).
  - Eligible host in a hotpatch cycle off its baseline - C(baseline), restart (it must catch up).
  - A restart already pending - C(reboot) first; C(install) then holds what follows the restart.
  - Ineligible host - C(conventional) (regular updates, restart when they need it).
  - Nothing to do (up to date, nothing offered, nothing pending) - C(none).
positional: updates, policy
options:
  _input:
    description: The host's M(hotpatch.windows.baseline_info) result.
    type: dict
    required: true
  updates:
    description:
      - The C(updates) that M(ansible.windows.win_updates) with C(state=searched) returned (a mapping by
        update id, or a list; each with C(title), C(kb), C(categories) and, when known, C(reboot)). The whole
        registered win_updates result is accepted too, and is the only form in which an empty result means
        that Windows Update offers nothing (an empty list means "not known").
      - Omitted when not searched; the plan then relies on the release catalog alone.
    type: raw
  policy:
    description: Site policy.
    type: dict
    suboptions:
      defer_non_security:
        description:
          - In hotpatch cycles, leave non-security, .NET, driver and firmware updates for the next baseline.
        type: bool
        default: true
      accept_list:
        description: Extra title or KB patterns (regular expressions) to install in hotpatch cycles.
        type: list
        elements: str
      reject_list:
        description: Title or KB patterns (regular expressions) never to install.
        type: list
        elements: str
"""

EXAMPLES = r"""
- name: Search what Windows Update offers
  ansible.windows.win_updates:
    state: searched
    category_names: '*'
  register: offered

- name: Plan the host
  ansible.builtin.set_fact:
    hotpatch_plan: >-
      {{ hotpatch_status | hotpatch.windows.host_plan(offered.updates, {'defer_non_security': true}) }}

- name: Install what the plan says
  ansible.windows.win_updates:
    category_names: "{{ hotpatch_plan.install.category_names }}"
    accept_list: "{{ hotpatch_plan.install.accept_list }}"
    reject_list: "{{ hotpatch_plan.install.reject_list }}"
    reboot: false
  when: hotpatch_plan.action in ['hotpatch', 'baseline', 'conventional']
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    action:
      description: C(none), C(hotpatch), C(baseline), C(reboot) or C(conventional).
      type: str
    reboot:
      description: True when the host restarts in this plan (it is then placed in a wave).
      type: bool
    reasons:
      description: Human-readable sentences saying why.
      type: list
      elements: str
    install:
      description:
        - Arguments for M(ansible.windows.win_updates) - C(category_names), C(accept_list), C(reject_list).
        - Empty lists for C(none); do not call win_updates then (an empty C(category_names) matches all).
      type: dict
"""


def host_plan_filter(status, updates=None, policy=None):
    """The plan of one host."""
    try:
        return host_plan(status, updates, policy)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.host_plan: {exc}") from None


class FilterModule:
    """hotpatch.windows.host_plan"""

    def filters(self):
        return {"host_plan": host_plan_filter}
