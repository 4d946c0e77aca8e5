# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: rollout_step
short_description: One host's step of a hotpatch rollout - install, decide, restart - as one task
version_added: 1.0.0
description:
  - The steps of the role C(hotpatch.windows.patch) for one host. Each step runs the modules the role would
    otherwise run as separate tasks - M(ansible.windows.win_updates), M(hotpatch.windows.baseline_info),
    M(ansible.windows.win_reboot) and M(hotpatch.windows.journal) - through their own action plugins on the
    task's connection, and decides between them with the rollout's decision filters
    (P(hotpatch.windows.rollout_start#filter), P(hotpatch.windows.install_outcome#filter),
    P(hotpatch.windows.restart_decision#filter), P(hotpatch.windows.wave_outcome#filter)). One task per host
    and step keeps the controller's cost of a wave down to that wave's hosts (every task Ansible dispatches to
    a host costs a worker process, whatever it does). See the patch guide and C(docs/performance.md).
  - A host restarts only on Windows' evidence read right before the restart (the CBS C(RebootPending) key,
    Windows Update's C(RebootRequired) key, the signals opted into with C(hotpatch_restart_signals), or an
    install that reported C(reboot_required) while the host has not booted since), and only while its
    maintenance window is open.
  - A failed or unreachable host does not fail the task. Its failure is in the returned O(outcome) (with
    C(down=true) for a host that did not come back), which the role records as C(hotpatch_outcome); the final
    play of C(hotpatch.windows.patch) fails the hosts whose outcome is C(failed). Bad options fail the task,
    naming the host.
  - Use the role; call the module yourself only to build a rollout of your own from the same steps.
options:
  step:
    description:
      - C(install) routes the host from its plan and maintenance window, installs what O(plan) allows without
        a restart, reads the host again (unless the install reported C(reboot_required) for a planned restart)
        and returns the host's outcome. It holds a worker process (a fork) while Windows installs.
      - C(start) and C(staged) are C(install) in two tasks, so that no fork is held while Windows installs.
        C(start) routes the host and starts the install as an Ansible async job on the host (the documented
        C(async) support of M(ansible.windows.win_updates), C(poll=0)) and returns O(job). C(staged) waits
        for that job, reads the host again and returns the host's outcome as C(install) does. It waits on
        the host, with M(ansible.windows.win_wait_for) on the job's results file (checked every second, for
        up to 300 seconds per command), and reads the job with M(ansible.builtin.async_status) when that
        file says finished or the wait runs out; where the wait cannot run, it polls
        M(ansible.builtin.async_status) every third of the time the job has run so far, between 1 and 15
        seconds. Run C(start) for every host, then C(staged), and every host installs at once, whatever
        C(forks) is. A host that restarts while its job runs is failed (the job ends with the restart); a
        job that outlives O(install_timeout) fails the host.
      - C(check) reads the host right before its restart and returns the restart decision.
      - C(restart) journals the restart, restarts the host, installs what waited for the restart (plan action
        C(reboot)), restarts again when that install says so, reads the host again and journals the restart's
        end. Run it only when the decision of O(step=check) says C(restart=true).
      - C(wave) is C(check), then C(restart) when Windows still needs it, then the host's wave outcome. A host
        that O(admission) holds back, or any host in check mode, only gets its outcome; nothing is contacted.
    type: str
    required: true
    choices: [install, start, staged, check, restart, wave]
  status:
    description: The host's C(hotpatch_status) (O(step=install), O(step=start)).
    type: dict
    default: {}
  plan:
    description: The host's C(hotpatch_plan) (O(step=install), O(step=start), O(step=staged), O(step=restart),
      O(step=wave)).
    type: dict
    default: {}
  outcome:
    description: The host's C(hotpatch_outcome) (O(step=check), O(step=wave)); for O(step=staged), the
      C(outcome) that O(step=start) returned.
    type: dict
    default: {}
  assessed_at:
    description: When the host was assessed (C(hotpatch_assessed_at), ISO 8601 UTC); places the maintenance
      window at the host's clock (O(step=install), O(step=start)).
    type: str
  installed_at:
    description: When the host's install ended (ISO 8601 UTC), the C(installed_at) this module returned for
      O(step=install) or O(step=staged). An install's C(reboot_required) counts as evidence while the host
      has not booted since.
    type: str
  window:
    description: The host's C(patch_maintenance_window), read again at the host's clock before its restart.
    type: raw
  unexpected_reboot:
    description: C(patch_unexpected_reboot) - what to do when Windows needs a restart nobody planned.
    type: str
    default: reboot
    choices: [reboot, defer, fail]
  wave:
    description: The wave number (O(step=restart), O(step=wave)).
    type: int
  decision:
    description: The decision O(step=check) returned (O(step=restart)).
    type: dict
  admission:
    description: The wave's admission (P(hotpatch.windows.wave_admit#filter)); a host it holds back is not
      contacted (O(step=wave)).
    type: dict
  reboot_timeout:
    description: Seconds to wait for the host to come back from each restart (C(patch_reboot_timeout)).
    type: int
    default: 1800
  install_timeout:
    description:
      - Seconds the install job may run (C(patch_install_timeout); O(step=start)). Ansible's async watchdog
        ends the job on the host after that long, and O(step=staged) fails the host.
    type: int
    default: 14400
  job:
    description: The O(job) that O(step=start) returned (O(step=staged)); V(null) when it started none.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is installed or restarted; O(step=install) and O(step=wave) return what would happen.
  diff_mode:
    support: none
  platform:
    platforms: windows
seealso:
  - module: hotpatch.windows.baseline_info
  - module: ansible.windows.win_updates
  - module: ansible.windows.win_reboot
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Install without a restart and read Windows' restart evidence
  hotpatch.windows.rollout_step:
    step: install
    status: "{{ hotpatch_status }}"
    plan: "{{ hotpatch_plan }}"
    window: "{{ patch_maintenance_window | default(none) }}"
  register: step

- name: Restart the host in wave 1 if Windows still needs it
  hotpatch.windows.rollout_step:
    step: wave
    wave: 1
    outcome: "{{ step.outcome }}"
    plan: "{{ hotpatch_plan }}"
    installed_at: "{{ step.installed_at }}"
    admission: {admitted: ["{{ inventory_hostname }}"], held: {}}

- name: Start the install on every host at once (no fork is held while Windows installs)
  hotpatch.windows.rollout_step:
    step: start
    status: "{{ hotpatch_status }}"
    plan: "{{ hotpatch_plan }}"
  register: started

- name: Wait for the install and read Windows' restart evidence
  hotpatch.windows.rollout_step:
    step: staged
    outcome: "{{ started.outcome }}"
    job: "{{ started.job }}"
    plan: "{{ hotpatch_plan }}"
  register: staged
"""

RETURN = r"""
outcome:
  description: The host's outcome after the step (the role's C(hotpatch_outcome); see the report guide).
  returned: O(step=install), O(step=start), O(step=staged) or O(step=wave)
  type: dict
installed_at:
  description: When the install ended (ISO 8601 UTC); V(null) when nothing was installed.
  returned: O(step=install) or O(step=staged) when the host installed
  type: str
job:
  description:
    - The async job O(step=start) started - C(jid), C(started) (the controller's clock, seconds since the
      epoch), C(timeout), C(boot) (the host's last boot time when it was assessed) - or V(null) when it
      started none (nothing to install, check mode, or a start that failed; then O(outcome) says so).
  returned: O(step=start)
  type: dict
decision:
  description:
    - The restart decision - C(restart), C(evidence), C(unreachable), C(message) and, for a closed maintenance
      window, C(deferred). V(null) when the host was not read (held back, check mode).
  returned: O(step=check) or O(step=wave)
  type: dict
steps:
  description:
    - The results of the modules the step ran, by name - C(install), C(after) and C(now) (the host read
      again), C(start) (the async job's start), C(reboot), C(reboot_again) - each as a registered result;
      absent when not run.
  returned: always
  type: dict
msg:
  description: The outcome's message.
  returned: when there is an outcome
  type: str
"""
