"""The wave_outcome filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import after_wave

DOCUMENTATION = r"""
name: wave_outcome
short_description: A host's outcome at the end of its restart wave
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Combines the restart decision, the registered results of the wave's steps (restart, install, second
    restart), the host's state read after them and the health checks into the host's final
    C(hotpatch_outcome).
  - A restart that failed or a host that did not come back counts as down for the availability caps of the
    later waves.
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: host, wave, decision, steps, after, health, admission, check_mode
options:
  _input:
    description: The host's C(hotpatch_outcome).
    type: dict
    required: true
  host:
    description: The host's inventory name.
    type: str
    required: true
  wave:
    description: The wave number.
    type: int
    required: true
  decision:
    description:
      - The C(hotpatch.windows.restart_decision) result (V(null) for a host held back, or in check mode).
    type: dict
    required: true
  steps:
    description:
      - Registered results C({reboot, install, reboot_again}) (omitted or skipped when not run), and
        C(error) (C({task, msg})) when a hook or health task file failed.
    type: dict
    required: true
  after:
    description: The registered M(hotpatch.windows.baseline_info) result read after the wave's steps.
    type: dict
    required: true
  health:
    description: The failed health checks, as sentences.
    type: list
    elements: str
  admission:
    description:
      - The wave's P(hotpatch.windows.wave_admit#filter) result; a host it held back (its C(held)) is
        C(not_reached) with the reason, and nothing else is read.
    type: dict
  check_mode:
    description: In check mode nothing ran; the outcome says in which wave the host would restart.
    type: bool
    default: false

"""

EXAMPLES = r"""
- name: Record the host's wave outcome
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ hotpatch_outcome | hotpatch.windows.wave_outcome(inventory_hostname, patch_wave_number,
      patch_restart, {'reboot': patch_reboot}, patch_wave_after) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def wave_outcome_filter(
    outcome, host, wave, decision, steps, after, health=None, admission=None, check_mode=False
):
    """hotpatch.windows.wave_outcome"""
    try:
        return after_wave(outcome, host, wave, decision, steps, after, health, admission, check_mode)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.wave_outcome: {exc}") from None


class FilterModule:
    """hotpatch.windows.wave_outcome"""

    def filters(self):
        return {"wave_outcome": wave_outcome_filter}
