"""The baseline_state filter: what baseline_info returns, from raw facts, without a connection."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import baseline_state
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: baseline_state
short_description: Where a Windows host stands against the hotpatch release calendar, from cached raw facts
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Returns exactly what M(hotpatch.windows.baseline_info) returns, from a host's raw facts (the probe's
    output, for example C(hotpatch_status.facts) kept in the AWX fact cache) and the host settings, without
    a connection. A plan can then be made from cached facts, and tested without a host.
  - The release line comes from the installed KBs as well as the build. Where two releases share a build
    (October 2025, KB5070881 and KB5070893 are both 26100.6905 and leave a host on different lines), the
    installed KB decides; where nothing decides, the line is C(unknown).
  - Only the servicing stack's signals (CBS C(RebootPending), Windows Update C(RebootRequired)) make
    C(reboot_pending.required) true, unless O(hotpatch_restart_signals) adds C(file_rename) or
    C(computer_rename); the other signals are listed under C(reboot_pending.ignored) with what they hold.
positional: date, catalog
options:
  _input:
    description: The raw facts of one host (the probe's JSON document).
    type: dict
    required: true
  date:
    description:
      - The date that picks the release cycle (C(hotpatch_date)); without it the facts' C(now).
    type: raw
  catalog:
    description: Extra catalog rows (C(hotpatch_catalog)), a list of rows or a YAML file path.
    type: raw
  hotpatch_platform:
    description: As the host variable; also accepted as C(platform).
    type: str
    choices: [auto, azure, azure_local, arc, on_premises]
  hotpatch_image:
    description: As the host variable; also accepted as C(image).
    type: dict
  hotpatch_arc_license:
    description: As the host variable; also accepted as C(arc_license).
    type: str
    choices: [enabled, disabled, unknown]
  hotpatch_vmss_orchestration:
    description: As the host variable; also accepted as C(vmss_orchestration).
    type: str
  hotpatch_restart_signals:
    description:
      - The pending-restart signals that count as Windows' evidence of a needed restart, besides C(cbs) and
        C(windows_update) which always count. Add C(file_rename) (PendingFileRenameOperations) or
        C(computer_rename) to restart for them too. Also accepted as C(restart_signals).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Plan from the facts cached by an earlier assessment (no connection)
  ansible.builtin.set_fact:
    hotpatch_plan: >-
      {{ (hotpatch_status.facts | hotpatch.windows.baseline_state(hotpatch_date | default(none),
      hotpatch_catalog | default([]), hotpatch_platform=hotpatch_platform | default('auto')))
      | hotpatch.windows.host_plan }}

- name: Where would this host stand on the first baseline day of July 2026?
  ansible.builtin.debug:
    msg: "{{ (cached_facts | hotpatch.windows.baseline_state('2026-07-14')).release_line }}"
"""

RETURN = r"""
_value:
  description: The M(hotpatch.windows.baseline_info) result, see that module's return values.
  type: dict
  contains:
    facts:
      description: The raw facts given.
      type: dict
    eligibility:
      description: The C(hotpatch.windows.eligibility) verdict.
      type: dict
    cycle:
      description: The C(hotpatch.windows.release_cycle) result of the date, or null for a release without
        a hotpatch calendar.
      type: dict
    release_line:
      description: C(hotpatch), C(lcu) or C(unknown).
      type: str
    current:
      description: The host's release, C({build, kb, month}).
      type: dict
    baseline:
      description: The baseline the host's release sits on, C({build, kb, month}).
      type: dict
    on_current_baseline:
      description: True when the host is on the hotpatch line of the cycle's baseline.
      type: bool
    up_to_date:
      description: True when the host has the cycle's release (or a newer one).
      type: bool
    reboot_pending:
      description: C({required, reasons, signals, ignored}).
      type: dict
    date:
      description: C({value, source}), source C(hotpatch_date) or C(host_clock).
      type: dict
    catalog:
      description: C({newest_month, programme, programme_last, note}) of the host's OS.
      type: dict
    warnings:
      description: Sentences to show the user.
      type: list
      elements: str
"""


def baseline_state_filter(facts, date=None, catalog=None, **settings):
    """The baseline_info result of one host's raw facts."""
    try:
        return baseline_state(facts, date, catalog, **settings)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.baseline_state: {exc}") from None


class FilterModule:
    """hotpatch.windows.baseline_state"""

    def filters(self):
        return {"baseline_state": baseline_state_filter}
