"""The restart_decision filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import restart_decision

DOCUMENTATION = r"""
name: restart_decision
short_description: Right before a restart, whether Windows still shows that the host needs it
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes the host's outcome and a M(hotpatch.windows.baseline_info) result read moments ago and returns
    C({restart, evidence, unreachable, message}).
  - Only Windows' evidence restarts a host - the CBS C(RebootPending) key, Windows Update's
    C(RebootRequired) key (and the signals opted into with C(hotpatch_restart_signals)), or an install that
    reported C(reboot_required) while the host has not booted since.
  - A host that restarted on its own, or whose pending restart cleared, is not restarted.
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: now, last_install, window, host
options:
  _input:
    description: The host's C(hotpatch_outcome).
    type: dict
    required: true
  now:
    description: The registered M(hotpatch.windows.baseline_info) result read right before the restart.
    type: dict
    required: true
  last_install:
    description: When the install that reported C(reboot_required) ended (ISO 8601 UTC).
    type: str
  window:
    description:
      - The host's C(patch_maintenance_window), read again at the host's clock of O(now); a closed window
        defers the host (C(deferred=true)), never restarting it.
    type: dict
  host:
    description: The host's inventory name (used in messages).
    type: str
"""

EXAMPLES = r"""
- name: Look again right before the restart
  ansible.builtin.set_fact:
    patch_restart: "{{ hotpatch_outcome | hotpatch.windows.restart_decision(patch_now, patch_installed_at) }}"
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def restart_decision_filter(outcome, now, last_install=None, window=None, host=None):
    """hotpatch.windows.restart_decision"""
    try:
        return restart_decision(outcome, now, last_install, window, host)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.restart_decision: {exc}") from None


class FilterModule:
    """hotpatch.windows.restart_decision"""

    def filters(self):
        return {"restart_decision": restart_decision_filter}
