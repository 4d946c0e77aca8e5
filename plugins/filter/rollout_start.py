"""The rollout_start filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import new_outcome

DOCUMENTATION = r"""
name: rollout_start
short_description: A host's first rollout outcome after its assessment (install, wave, done, deferred, failed)
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes the host's name (input), its C(hotpatch_status) and C(hotpatch_plan) and returns its first
    C(hotpatch_outcome).
  - C(route) says where the rollout takes the host - C(install) (the parallel install step), C(wave) (a
    pending restart must go first), C(done) (nothing to do), C(deferred) (maintenance window closed) or
    C(failed) (assessment failed, a refused plan, a bad window).
  - In check mode the status is C(check_mode) and the message says what would happen.
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: status, plan, window, check_mode, assessed_at
options:
  _input:
    description: The host's inventory name (used in messages).
    type: str
    required: true
  status:
    description: The host's M(hotpatch.windows.baseline_info) result (C(hotpatch_status)).
    type: dict
    required: true
  plan:
    description: The host's P(hotpatch.windows.host_plan#filter) result (C(hotpatch_plan)).
    type: dict
    required: true
  window:
    description:
      - The host's C(patch_maintenance_window) (C({days, start, end, timezone})); omitted or empty means
        always open. It is read at the host's clock of the assessment plus the controller time since
        O(assessed_at). A bad window fails the host (its outcome says why), never the play.
    type: dict
  assessed_at:
    description: The controller time of the assessment (C(hotpatch_assessed_at)).
    type: str
  check_mode:
    description: True in check mode.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Route the host
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ inventory_hostname | hotpatch.windows.rollout_start(hotpatch_status, hotpatch_plan,
      patch_maintenance_window, ansible_check_mode, hotpatch_assessed_at) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def rollout_start_filter(host, status, plan, window=None, check_mode=False, assessed_at=None):
    """hotpatch.windows.rollout_start"""
    try:
        return new_outcome(host, status, plan, window, check_mode, assessed_at)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.rollout_start: {exc}") from None


class FilterModule:
    """hotpatch.windows.rollout_start"""

    def filters(self):
        return {"rollout_start": rollout_start_filter}
