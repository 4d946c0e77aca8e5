"""The install_batch filter: how the install play of hotpatch.windows.patch runs patch_install_batch_size."""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import install_batch

DOCUMENTATION = r"""
name: install_batch
short_description: How many hosts the install play runs at a time, and whether that is every host
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes C(patch_install_batch_size) (a count or a whole percentage) and the number of hosts that install,
    and returns whether that is every host at once and the play's C(serial) as Ansible reads it.
  - Every host at once (C(at_once)) when the batch is at least the number of hosts, whatever way the value
    says it (V('100%'), V('100 %'), a count of every host or more). The playbook C(hotpatch.windows.patch)
    then starts every install in one play and waits for them at most C(forks) hosts at a time.
positional: hosts
options:
  _input:
    description: The value of C(patch_install_batch_size), a count such as V(10) or a percentage V('25%').
    type: raw
    required: true
  hosts:
    description: How many hosts install (the assessed hosts of the run).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Remember how the installs run (once, for the install plays)
  ansible.builtin.set_fact:
    hotpatch_install_batch: >-
      {{ patch_install_batch_size | hotpatch.windows.install_batch(groups.hotpatch_assessed | length) }}
  run_once: true
  delegate_to: localhost
  delegate_facts: true
"""

RETURN = r"""
_value:
  description: How the install play runs.
  type: dict
  contains:
    at_once:
      description: Whether every host installs at once.
      type: bool
    serial:
      description:
        - The install play's C(serial), a count or a whole percentage; V('100%') when C(at_once).
      type: raw
"""


def install_batch_filter(batch_size, hosts=None):
    """How the install play runs batch_size of hosts hosts at a time."""
    if isinstance(hosts, bool) or not isinstance(hosts, int) or hosts < 0:
        raise AnsibleFilterError(f"hotpatch.windows.install_batch: hosts must be a count >= 0, got {hosts!r}")
    try:
        return install_batch(batch_size, hosts)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.install_batch: patch_install_batch_size: {exc}") from None


class FilterModule:
    """hotpatch.windows.install_batch"""

    def filters(self):
        return {"install_batch": install_batch_filter}
