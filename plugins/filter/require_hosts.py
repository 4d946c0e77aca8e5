"""The require_hosts filter: a play's hosts, or a clear error when the pattern matches none."""

from ansible import context
from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: require_hosts
short_description: The hosts a pattern matched, or a clear error when it matched none
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - The playbooks of this collection target C(hotpatch_hosts) (default C(windows)). An inventory without such
    hosts would otherwise do nothing and exit 0; this filter stops the run with a message saying what to do.
positional: pattern
options:
  _input:
    description: The host names the pattern matched (the C(ansible.builtin.inventory_hostnames) lookup).
    type: list
    elements: str
    required: true
  pattern:
    description: The pattern, for the message.
    type: str
"""

EXAMPLES = r"""
- name: Assess
  hosts: >-
    {{ query('ansible.builtin.inventory_hostnames', hotpatch_hosts | default('windows'))
    | hotpatch.windows.require_hosts(hotpatch_hosts | default('windows')) }}
  tasks: []
"""

RETURN = r"""
_value:
  description: The host names, unchanged.
  type: list
  elements: str
"""


def require_hosts_filter(hosts, pattern="windows"):
    """hotpatch.windows.require_hosts"""
    if not hosts and not context.CLIARGS.get("syntax"):  # a syntax check needs no inventory
        raise AnsibleFilterError(
            f"hotpatch.windows: the host pattern {pattern!r} matches no host of the inventory: put your "
            "Windows hosts into a group 'windows' or set -e hotpatch_hosts=<pattern>"
        )
    return list(hosts)


class FilterModule:
    """hotpatch.windows.require_hosts"""

    def filters(self):
        return {"require_hosts": require_hosts_filter}
