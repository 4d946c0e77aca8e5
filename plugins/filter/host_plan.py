"""The host_plan filter: what one host does this cycle."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._plan import host_plan

DOCUMENTATION = r"""
name: host_plan
short_description: What a Windows host installs this cycle, what waits, and whether a restart is expected
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Turns a host's M(hotpatch.windows.baseline_info) result (C(hotpatch_status)) and the updates Windows
    Update
    offers it into a plan - C(none), C(hotpatch), C(baseline), C(reboot) or C(conventional) - with each
    offered
    update decided (install, defer, skip, reject) and the C(category_names), C(accept_list) and C(reject_list)
    to give M(ansible.windows.win_updates).
  - C(reboot) is only a prediction that places the host in a restart wave. Windows decides the restart
    (C(win_updates) C(reboot_required), the CBS and Windows Update keys); see the rollout filters
    C(hotpatch.windows.install_outcome) and C(hotpatch.windows.restart_decision).
  - Security first - every cycle installs Critical and Security updates (Windows, .NET, other Microsoft
    products), Defender definitions and the Malicious Software Removal Tool.
  - In a hotpatch month a host that takes the month's hotpatch does not take the month's cumulative update
    (the hotpatch carries its security fixes). Where Windows Update offers the cumulative update and no
    hotpatch to a host that should take one, Microsoft's behaviour is to install it and restart
    (O(policy.no_hotpatch)); the plan's C(cause) says which evidence was seen -
    C(unplanned_baseline_suspected)
    (the month's release is not published and the cumulative update is offered) or C(hotpatch_line_lost)
    (Microsoft published a hotpatch this month; this host does not get it). C(not_offered) means Windows
    Update offers nothing although the host lacks this cycle's release.
  - Updates outside the hotpatch programme (non-security Windows updates, .NET, other products) are installed
    in hotpatch months too and restart only if Windows needs it; O(policy.defer_non_security) leaves the
    non-security ones for the next baseline month. Drivers are opt-in (O(policy.include_drivers)); optional
    (preview) updates are skipped (O(policy.skip_optional)); feature updates are never installed.
  - Releases are recognised by KB where the catalog knows them (the month's hotpatch, its LCU, out-of-band
    releases), by the title forms Windows Update uses otherwise.
  - A restart already pending (CBS or Windows Update) gives C(reboot) first; C(install) then holds what
    follows
    the restart. C(PendingFileRenameOperations) and a pending computer rename do not, unless the host opted in
    with C(hotpatch_restart_signals).
  - After the end of an OS's hotpatch programme, its hosts get C(conventional) with C(cause)
    C(programme_ended).
positional: updates, policy, catalog
options:
  _input:
    description: The host's M(hotpatch.windows.baseline_info) result (or C(hotpatch.windows.baseline_state)).
    type: dict
    required: true
  updates:
    description:
      - The registered M(ansible.windows.win_updates) C(state=searched) result (or its C(updates), a mapping
        by
        update id or a list; each with C(title), C(kb), C(categories)). Only the whole registered result can
        say
        that the search found nothing; an empty list means "not known".
      - Omitted when not searched; the plan then relies on the release catalog and update categories alone.
    type: raw
  policy:
    description: Site policy.
    type: dict
    suboptions:
      defer_non_security:
        description: In hotpatch months, leave non-security updates for the next baseline month.
        type: bool
        default: false
      include_drivers:
        description: Install driver updates (a driver install can drop the WinRM connection while it runs).
        type: bool
        default: false
      skip_optional:
        description: Skip optional (preview) updates.
        type: bool
        default: true
      no_hotpatch:
        description:
          - When Windows Update offers the cumulative update and no hotpatch to a host that should take one -
            V(install) it (restart), V(fail) the host, or V(skip) it (its security fixes stay open, reported).
        type: str
        choices: [install, fail, skip]
        default: install
      accept_list:
        description: Title or KB patterns (regular expressions) always installed.
        type: list
        elements: str
      reject_list:
        description: Title or KB patterns (regular expressions) never installed.
        type: list
        elements: str
  catalog:
    description: Extra catalog rows (C(hotpatch_catalog)), so KBs the shipped catalog does not know are
      recognised.
    type: raw
"""

EXAMPLES = r"""
- name: Search what Windows Update offers
  ansible.windows.win_updates:
    state: searched
    category_names: '*'
  register: offered

- name: Plan the host
  ansible.builtin.set_fact:
    hotpatch_plan: "{{ hotpatch_status | hotpatch.windows.host_plan(offered, {'defer_non_security': false})
      }}"

- name: Install what the plan says
  ansible.windows.win_updates:
    category_names: "{{ hotpatch_plan.install.category_names }}"
    accept_list: "{{ hotpatch_plan.install.accept_list or omit }}"
    reject_list: "{{ hotpatch_plan.install.reject_list or omit }}"
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
      description: True when a restart is expected (a prediction; Windows decides).
      type: bool
    reasons:
      description: Sentences saying why.
      type: list
      elements: str
    install:
      description:
        - Arguments for M(ansible.windows.win_updates) - C(category_names), C(accept_list), C(reject_list).
        - Empty lists for C(none); do not call win_updates then (an empty C(category_names) matches all).
      type: dict
    updates:
      description:
        - Each offered update - C(title), C(kb), C(categories), C(kind) (C(hotpatch), C(lcu), C(security),
          C(definition), C(msrt), C(other), C(driver), C(optional), C(upgrade)), C(security), C(restart)
          (expected), C(decision) (C(install), C(defer), C(skip), C(reject)), C(reason), C(month),
          C(released), C(covered_by) (the hotpatch KB whose fixes make a rejected cumulative update unneeded).
      type: list
      elements: dict
    deferred:
      description: The updates not installed this cycle (deferred, skipped, and rejected security updates).
      type: list
      elements: dict
    cause:
      description:
        - Null, or C({code, message}) with code C(unplanned_baseline_suspected), C(hotpatch_line_lost),
          C(not_offered) or C(programme_ended).
      type: dict
    failed:
      description: True when policy refuses the host (O(policy.no_hotpatch=fail)).
      type: bool
"""


def host_plan_filter(status, updates=None, policy=None, catalog=None):
    """The plan of one host."""
    try:
        return host_plan(status, updates, policy, catalog)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.host_plan: {exc}") from None


class FilterModule:
    """hotpatch.windows.host_plan"""

    def filters(self):
        return {"host_plan": host_plan_filter}
