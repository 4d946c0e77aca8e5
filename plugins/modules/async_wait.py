# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: async_wait
short_description: Wait on a Windows host for an Ansible async job and return the job's result
version_added: 1.0.0
description:
  - Waits for an Ansible async job that an earlier task started (C(async), C(poll=0)) on a Windows host,
    and returns the job's own result, the result the module would have returned without C(async). A task
    that starts a long job on every host and then this task is how the role C(hotpatch.windows.assess)
    searches Windows Update on every host at once, whatever C(forks) is.
  - It waits on the host, not on the controller. M(ansible.windows.win_wait_for) watches the job's results
    file (checked every second, up to five minutes per command), then M(ansible.builtin.async_status) reads
    the job and removes its results file. A long job costs the controller a command every five minutes, and
    its end is seen within a second. Where the host cannot wait that way, the task polls
    M(ansible.builtin.async_status) instead, less often as the job goes on.
  - A host that restarts while its job runs (the job dies with it) fails at once, with the boot time it
    came back with; a host that only stopped answering for a while is waited for. A job that runs longer
    than O(timeout) fails the task; Ansible's own async watchdog ends the job on the host then.
  - When O(job) is the result of a start that failed, was unreachable, or was skipped, the task returns that
    result as its own, so one registered variable holds what happened either way.
  - Run it for no more hosts at once than C(forks) when the jobs are long (a play with C(serial)); with more
    hosts than forks, the hosts queued for a fork make Ansible's strategy spin while the first ones wait.
options:
  job:
    description:
      - The registered result of the task that started the job (C(async), C(poll=0)), with its
        C(ansible_job_id) and C(results_file).
    type: dict
    required: true
  timeout:
    description:
      - Seconds the job may run, the C(async) value the job was started with.
    type: int
    required: true
  boot:
    description:
      - The host's last boot time read before the job started (ISO 8601, as
        M(hotpatch.windows.baseline_info) returns C(facts.last_boot)). When the host is found booted since,
        the job died with the restart and the task fails. Without it, a restart is noticed only at the
        timeout.
    type: str
  name:
    description: What the job does, for the messages (V(Windows Update search)).
    type: str
    default: job
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It only reads the job; the task that started the job decides what check mode means for it.
  diff_mode:
    support: none
  platform:
    platforms: windows
seealso:
  - module: ansible.builtin.async_status
  - module: ansible.windows.win_wait_for
  - module: hotpatch.windows.rollout_step
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Search Windows Update on every host at once (an async job on each host)
  ansible.windows.win_updates:
    state: searched
  async: 3600
  poll: 0
  register: search_start

- name: Wait for the search on the host, and register its result as win_updates returns it
  hotpatch.windows.async_wait:
    job: "{{ search_start }}"
    timeout: 3600
    name: Windows Update search
  register: search
"""

RETURN = r"""
msg:
  description: Why the wait failed (the host restarted while the job ran, or the job outlived O(timeout)),
    or the job's own message.
  returned: when the job or the wait failed
  type: str
"""
