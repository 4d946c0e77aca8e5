"""The enable_finish filter (plugins/plugin_utils/_enable.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import enable_finish
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DOCUMENTATION = r"""
name: enable_finish
short_description: A host's last outcome of P(hotpatch.windows.enable#role), with its Hotpatch licence
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - A host whose restart wave never started is C(not_reached), with why (see
    P(hotpatch.windows.rollout_finish#filter)); its licence is not requested.
  - An Arc host's Hotpatch licence request is folded in - C(enabled) (or C(restarted)) when Azure accepted it
    and the feature is C(Enabling) or C(Enabled), C(failed) when the request failed or the feature is
    C(Failed). It is only sent where virtualization-based security runs (Microsoft - if VSM isn't running,
    enabling hotpatch fails).
positional: host, rollout, status, plan, licence_change, licence_after, check_mode
options:
  _input:
    description: The host's C(hotpatch_outcome).
    type: dict
    required: true
  host:
    description: The host's inventory name.
    type: str
    required: true
  rollout:
    description: The rollout (C(hostvars.localhost.hotpatch_rollout)).
    type: dict
  status:
    description: The host's C(hotpatch_status), read after its restart wave.
    type: dict
  plan:
    description: The P(hotpatch.windows.enable_plan#filter) result.
    type: dict
  licence_change:
    description: The registered C(ansible.builtin.uri) C(PATCH) or C(PUT) of the license profile.
    type: dict
  licence_after:
    description: The registered C(ansible.builtin.uri) GET of the license profile after the change.
    type: dict
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Close the host's outcome
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ hotpatch_outcome | hotpatch.windows.enable_finish(inventory_hostname,
      hostvars.localhost.hotpatch_rollout, hotpatch_status, hotpatch_plan, enable_licence_change,
      enable_licence_after, ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def enable_finish_filter(
    outcome,
    host,
    rollout=None,
    status=None,
    plan=None,
    licence_change=None,
    licence_after=None,
    check_mode=False,
):
    """hotpatch.windows.enable_finish"""
    try:
        return enable_finish(outcome, host, rollout, status, plan, licence_change, licence_after, check_mode)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.enable_finish: {exc}") from None


class FilterModule:
    """hotpatch.windows.enable_finish"""

    def filters(self):
        return {"enable_finish": enable_finish_filter}
