"""The install_outcome filter (plugins/plugin_utils/_outcome.py)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import after_install

DOCUMENTATION = r"""
name: install_outcome
short_description: The outcome after the install step, from what win_updates and the probe report
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Reads Windows' evidence after an install without a restart - C(reboot_required) of
    M(ansible.windows.win_updates) and the counted pending-restart signals of a fresh
    M(hotpatch.windows.baseline_info) - and sends the host to a restart wave only on that evidence.
  - A host whose plan expected a restart but that Windows says needs none is done, with the restart avoided.
  - A host that Windows says needs a restart although its plan did not expect one follows O(unexpected).
  - One of the rollout's decision filters; the role C(hotpatch.windows.patch) calls them between its modules.
    See the patch guide (docs/roles.md) for the whole state machine.
positional: host, plan, install, after, unexpected
options:
  _input:
    description: The host's current C(hotpatch_outcome).
    type: dict
    required: true
  host:
    description: The host's inventory name (used in messages).
    type: str
    required: true
  plan:
    description: The host's plan.
    type: dict
    required: true
  install:
    description: The registered M(ansible.windows.win_updates) result of the install.
    type: dict
    required: true
  after:
    description: The registered M(hotpatch.windows.baseline_info) result read after the install.
    type: dict
    required: true
  unexpected:
    description: What to do with a host that needs a restart its plan did not expect.
    type: str
    choices: [reboot, defer, fail]
    default: reboot
"""

EXAMPLES = r"""
- name: Decide from Windows' evidence
  ansible.builtin.set_fact:
    hotpatch_outcome: >-
      {{ hotpatch_outcome | hotpatch.windows.install_outcome(inventory_hostname, hotpatch_plan,
      patch_install, patch_after) }}
"""

RETURN = r"""
_value:
  description: See the description.
  type: dict
"""


def install_outcome_filter(outcome, host, plan, install, after, unexpected="reboot"):
    """hotpatch.windows.install_outcome"""
    try:
        return after_install(outcome, host, plan, install, after, unexpected)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.install_outcome: {exc}") from None


class FilterModule:
    """hotpatch.windows.install_outcome"""

    def filters(self):
        return {"install_outcome": install_outcome_filter}
