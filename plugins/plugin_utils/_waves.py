"""Which hosts restart together: waves capped by size and by availability group.

``plan_waves(plans, batch_size, max_per_group)`` places only the hosts whose plan restarts
(``reboot: true``). Hosts are taken in hostname order and each goes into the earliest wave that has room
(fewer than ``batch_size`` hosts and fewer than ``max_per_group`` of its ``group``), so the result depends on
the per-host data alone, never on the order of ``plans`` (safe under AWX job slicing).
"""

import hashlib
import re
from typing import TypedDict

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class InstallBatch(TypedDict):
    """The install play's batch (``install_batch``): every host at once, or ``serial`` hosts at a time."""

    at_once: bool
    serial: int | str


def wave_size(batch_size, host_count):
    """The largest wave: a count >= 1, or 'N%' of ``host_count`` (rounded down, at least 1)."""
    if isinstance(batch_size, bool):
        raise HotpatchError(f"batch_size must be a count >= 1 or a percentage like '25%', got {batch_size!r}")
    if isinstance(batch_size, str):
        text = batch_size.strip()
        match = _PERCENT_RE.match(text)
        if match:
            percent = float(match.group(1))
            if not 0 < percent <= 100:
                raise HotpatchError(
                    f"batch_size {batch_size!r}: the percentage must be above 0 and at most 100"
                )
            return max(1, int(host_count * percent // 100))
        if text.isdigit():
            batch_size = int(text)
    if isinstance(batch_size, float) and batch_size.is_integer():
        batch_size = int(batch_size)
    if isinstance(batch_size, int) and batch_size >= 1:
        return batch_size
    raise HotpatchError(f"batch_size must be a count >= 1 or a percentage like '25%', got {batch_size!r}")


def install_batch(batch_size, host_count):
    """How the install play runs ``batch_size`` of ``host_count`` hosts at a time: an InstallBatch.

    ``at_once`` when the batch covers every host (``wave_size`` of at least ``host_count``): the playbook then
    starts every install in one play and waits for them at most forks hosts at a time. Otherwise ``serial``
    is the play's batch as Ansible reads it: a count, or a whole percentage ``'N%'`` (Ansible's ``serial``
    takes no fraction of a percent). HotpatchError for any other value.
    """
    size = wave_size(batch_size, max(host_count, 1))
    match = _PERCENT_RE.match(batch_size) if isinstance(batch_size, str) else None
    if match and not float(match.group(1)).is_integer():
        raise HotpatchError(f"batch_size {batch_size!r}: the percentage must be a whole number")
    if size >= host_count:
        return InstallBatch(at_once=True, serial="100%")
    return InstallBatch(at_once=False, serial=f"{int(float(match.group(1)))}%" if match else size)


def _group_cap(max_per_group):
    if max_per_group is None or max_per_group == "":
        return None
    if isinstance(max_per_group, str) and max_per_group.strip().isdigit():
        max_per_group = int(max_per_group.strip())
    if isinstance(max_per_group, bool) or not isinstance(max_per_group, int) or max_per_group < 1:
        raise HotpatchError(f"max_per_group must be an integer >= 1 or null, got {max_per_group!r}")
    return max_per_group


def _restarting(plans):
    """Sorted (hostname, group) of the plans that restart; HotpatchError naming a bad plan."""
    if not isinstance(plans, dict):
        raise HotpatchError(
            f"plans must be a mapping of inventory_hostname to host_plan result, got {type(plans).__name__}"
        )
    hosts = []
    for host in sorted(plans, key=str):
        plan = plans[host]
        if not isinstance(plan, dict) or not isinstance(plan.get("reboot"), bool):
            raise HotpatchError(f"plan of host {host}: expected a host_plan result with reboot true or false")
        group = plan.get("group", plan.get("hotpatch_availability_group"))
        if group is not None and not isinstance(group, (str, int)):
            raise HotpatchError(f"plan of host {host}: group must be a string or null, got {group!r}")
        if plan["reboot"]:
            hosts.append((str(host), None if group in (None, "") else str(group)))
    return hosts


def _down_groups(down):
    """{group or None: count} of the hosts already down (``down``: {host: group} or a list of hosts)."""
    if down is None:
        return {}, 0
    if isinstance(down, (list, tuple, set)):
        down = dict.fromkeys(down)
    if not isinstance(down, dict):
        raise HotpatchError(f"down must be a mapping of host to its group (or a list of hosts), got {down!r}")
    counts = {}
    for host, group in down.items():
        if group is not None and (isinstance(group, bool) or not isinstance(group, (str, int))):
            raise HotpatchError(f"down host {host}: group must be a string or null, got {group!r}")
        key = None if group in (None, "") else str(group)
        counts[key] = counts.get(key, 0) + 1
    return counts, len(down)


def place_waves(plans, batch_size, max_per_group=None, down=None):
    """(waves, held): the waves of the hosts whose plan restarts, with room kept for hosts already down.

    ``down`` ({host: group}) are hosts that are down before the first wave (unreachable, still restarting):
    they occupy a place in every wave and in their group's cap until they are seen healthy. A host that has no
    room in any wave (the hosts already down fill ``batch_size`` or its group's cap) is in ``held``.
    """
    hosts = _restarting(plans)
    size = wave_size(batch_size, len(plans))
    cap = _group_cap(max_per_group)
    down_groups, down_count = _down_groups(down)
    room = size - down_count
    if room <= 0:
        return [], [host for host, _plan in hosts]
    waves = []
    held = []
    # Where the search for a group's next host starts (key None: hosts without a group, or no cap). A full
    # wave, or one where the group reached its cap, never takes that group again, so each start only moves
    # forward: the same waves as first-fit from the first wave every time, in linear time.
    starts = {}
    for host, group in hosts:
        key = group if cap is not None else None
        group_room = None if key is None else cap - down_groups.get(group, 0)
        if group_room is not None and group_room <= 0:
            held.append(host)
            continue
        index = starts.get(key, 0)
        while index < len(waves):
            wave = waves[index]
            if len(wave["hosts"]) < room and (key is None or wave["groups"].get(group, 0) < group_room):
                break
            index += 1
        else:
            waves.append({"hosts": [], "groups": {}})
        starts[key] = index
        wave = waves[index]
        wave["hosts"].append(host)
        if group is not None:
            wave["groups"][group] = wave["groups"].get(group, 0) + 1
    return [wave["hosts"] for wave in waves], held


def plan_waves(plans, batch_size, max_per_group=None, down=None):
    """A list of waves (lists of inventory hostnames) holding every host whose plan restarts.

    With ``down`` (hosts already down, see ``place_waves``), hosts that have no room are left out.
    """
    return place_waves(plans, batch_size, max_per_group, down)[0]


_SLICE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_slice(value):
    """(index, count) of 'i/N' (1 <= i <= N); None for no slicing (None, '', '1/1')."""
    if value in (None, ""):
        return None
    match = _SLICE_RE.match(str(value))
    if not match:
        raise HotpatchError(f"hotpatch_slice must look like '2/3' (slice 2 of 3), got {value!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise HotpatchError(f"hotpatch_slice {value!r}: the slice number must be from 1 to the slice count")
    return None if count == 1 else (index, count)


def slice_of(key, count):
    """The 1-based slice of a host key (its availability group, else its name): the same in every run."""
    digest = hashlib.sha256(str(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_slice(host, selection, group=None):
    """Whether ``host`` (with its availability group) is in slice ``selection`` ('i/N'); True without one."""
    chosen = parse_slice(selection)
    if chosen is None:
        return True
    key = f"group:{group}" if group not in (None, "") and isinstance(group, (str, int)) else f"host:{host}"
    return slice_of(key, chosen[1]) == chosen[0]


def slice_hosts(hosts, selection, groups):
    """The hosts of slice ``selection`` ('i/N'), keeping every availability group whole in one slice.

    ``groups``: {host: hotpatch_availability_group or None}. Every slice derives the same assignment from the
    per-host data alone, so N slices running at once never restart two hosts of one group beyond the cap.
    """
    chosen = parse_slice(selection)
    if chosen is None:
        return list(hosts)
    index, count = chosen
    result = []
    for host in hosts:
        group = (groups or {}).get(host)
        key = (
            f"group:{group}" if group not in (None, "") and isinstance(group, (str, int)) else f"host:{host}"
        )
        if slice_of(key, count) == index:
            result.append(host)
    return result
