"""The maintenance_window filter: is a host's maintenance window open now?"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._window import window_state

DOCUMENTATION = r"""
name: maintenance_window
short_description: Whether a host's maintenance window is open at the host's current time
version_added: 1.0.0
author: hotpatch.windows developers (@hotpatch-windows)
description:
  - Takes a maintenance window (C(patch_maintenance_window) of the role P(hotpatch.windows.patch#role))
    and the host's clock and time zone as the assessment read them (C(hotpatch_status.facts.now) and
    C(hotpatch_status.facts.timezone)) and says whether the window is open.
  - With O(assessed_at), the time that passed on the controller since the assessment is added to the host's
    clock, so a window that closes during a long rollout is noticed.
  - A window whose O(_input.end) is at or before its O(_input.start) runs past midnight into the next day.
  - An empty window (null or V({})) is always open.
options:
  _input:
    description: The window; null or empty for no window.
    type: dict
    required: true
    suboptions:
      days:
        description: Weekdays the window opens on (V(Mon) to V(Sun)); default every day.
        type: list
        elements: str
      start:
        description: Opening time, V(HH:MM) (default V(00:00)).
        type: str
      end:
        description: Closing time, V(HH:MM) (default V(24:00)).
        type: str
      timezone:
        description: Time zone of the window, an IANA name or a Windows id; default O(timezone).
        type: str
  now:
    description: The host's clock at the assessment, ISO 8601 (no offset means UTC).
    type: str
  timezone:
    description:
      - The host's time zone, an IANA name (V(Europe/Berlin)) or a Windows id (V(W. Europe Standard Time));
        default V(UTC).
    type: str
  assessed_at:
    description: The controller's time of the assessment, ISO 8601; null to add no elapsed time.
    type: str
  host:
    description: The host's name, for error messages.
    type: str
"""

EXAMPLES = r"""
- name: Check the host's maintenance window
  ansible.builtin.set_fact:
    window_state: >-
      {{ patch_maintenance_window | hotpatch.windows.maintenance_window(
      now=hotpatch_status.facts.now, timezone=hotpatch_status.facts.timezone,
      assessed_at=hotpatch_assessed_at | default(none), host=inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: The window's state.
  type: dict
  contains:
    open:
      description: The window is open (always true without a window).
      type: bool
    local:
      description:
        - The host's weekday, time and time zone (V(Thu 03:00 W. Europe Standard Time)); null without a
          window.
      type: str
    timezone:
      description: The time zone the window was read in; null without a window.
      type: str
    message:
      description: The local time and whether it is inside or outside the window, or V(no maintenance window).
      type: str
"""


def maintenance_window_filter(window, now=None, timezone=None, assessed_at=None, host=None):
    """The state of a host's maintenance window."""
    try:
        return window_state(window, now, timezone, assessed_at, host)
    except HotpatchError as exc:
        raise AnsibleFilterError(f"hotpatch.windows.maintenance_window: {exc}") from None


class FilterModule:
    """hotpatch.windows.maintenance_window"""

    def filters(self):
        return {"maintenance_window": maintenance_window_filter}
