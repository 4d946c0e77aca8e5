# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

DOCUMENTATION = r"""
---
module: journal
short_description: Journal a hotpatch run on the controller and write its report
version_added: 1.0.0
description:
  - Appends events of a hotpatch run to the run journal on the controller, and writes the fleet report from
    it. The roles C(hotpatch.windows.assess), C(hotpatch.windows.patch) and C(hotpatch.windows.report) call
    it; a playbook of your own can call it the same way.
  - Each run gets its own folder under the report directory (O(dir)), named by its start time (UTC) and a
    short id, for example C(20261125T231500Z-3f2a), and a link C(latest) to it. The folder holds
    C(journal.jsonl) (one JSON object per line, appended as outcomes become known, many forks at once) and
    the report files C(hosts/<host>.json), C(fleet.json), C(fleet.csv) and C(fleet.html).
  - A run is one C(ansible-playbook) process; every task of one C(ansible-playbook) invocation, in any play
    and on any host, writes to the same run. The first event of a process opens the run (O(event=run_start)
    does it explicitly, with the playbook name and the rollout settings); later events find it through the
    fact C(hotpatch_run) or, without the fact, by the controller process that started it.
  - At O(event=run_start) a small detached watcher process starts. It waits for the C(ansible-playbook)
    process to end and, if the journal has no C(run_end) by then (the run was stopped with Ctrl-C,
    SIGTERM or SIGKILL, or crashed), appends C(run_interrupted) and writes the report marked interrupted,
    listing every host journaled so far. It outlives the run for a moment, then exits.
  - A run started while an earlier run of the same report directory has no end and its controller process
    is gone (no watcher could mark it, for example a container that stopped) marks that run interrupted too.
  - Never opens a connection to the host. Never reports C(changed) - it changes nothing on the hosts.
  - Every string written (journal and report) has the credentials inside URLs masked
    (C(scheme://user:pass@host) becomes C(scheme://***@host)); rollout settings whose name looks like a
    secret (password, token, api_key, authorization ...) are written as C(***). Only the fields of a host
    record are written, never the host's variables wholesale.
options:
  event:
    description:
      - C(run_start) opens the run (once per C(ansible-playbook) process; with C(run_once)). Returns the run
        and sets the fact C(hotpatch_run). A second C(run_start) of the same process returns the same run.
      - C(host) appends one complete host record built from O(status), O(plan) and O(outcome) (the record of
        the task's host), or the records of the hosts in O(hosts) built from their variables
        C(hotpatch_status), C(hotpatch_plan), C(hotpatch_outcome) and C(rollback_result). The last record of
        a host wins.
      - C(restart_begin) and C(restart_end) bracket one restart of the task's host (O(data) C(wave);
        C(restart_end) also C(elapsed) seconds and C(ok)).
      - C(wave_start) and C(wave_end) bracket one restart wave (O(data) C(wave), C(hosts), C(held);
        C(wave_end) also C(failed), C(stopped), C(message)); call them once per wave (C(run_once)).
      - C(run_end) marks the run finished, with the fleet summary.
      - C(report) writes the report files of the run (merging O(merge)) and returns the summary.
    type: str
    required: true
    choices: [run_start, host, restart_begin, restart_end, wave_start, wave_end, run_end, report]
  dir:
    description:
      - The report directory on the controller, created when missing; the run folders go under it.
      - Default C(hotpatch_report_dir), else C(hotpatch-report) under the directory C(ansible-playbook) was
        started from.
    type: path
  run:
    description:
      - The run to write to, as returned by O(event=run_start) (the fact C(hotpatch_run)) or the path of a run
        folder. By default the fact C(hotpatch_run), else the run of this C(ansible-playbook) process under
        O(dir), else a new run.
    type: raw
  status:
    description:
      - The host's C(hotpatch_status) (the result of M(hotpatch.windows.baseline_info)), for O(event=host).
    type: raw
  plan:
    description:
      - The host's C(hotpatch_plan) (the P(hotpatch.windows.host_plan#filter) result with C(group)), for
        O(event=host).
    type: raw
  outcome:
    description:
      - The host's C(hotpatch_outcome) (the rollout's outcome), for O(event=host); omit it after the
        assessment.
    type: raw
  stage:
    description: Where the run is when the host record is journaled (kept in the journal line and the record).
    type: str
    default: final
    choices: [assess, install, wave, final, rollback, enable]
  host:
    description: The host a C(host) or C(restart_*) event is about. Default C(inventory_hostname).
    type: str
  hosts:
    description:
      - For O(event=host), journal these hosts' records from their own variables instead of O(status),
        O(plan) and O(outcome) (one task for the whole fleet, as the report role does).
      - A host no longer in the play (C(ansible_play_hosts)) is recorded as failed, with its last outcome.
    type: list
    elements: str
  data:
    description:
      - The fields of the event. C(run_start) - C(playbook) (its name), C(settings) (the rollout settings;
        secrets masked), C(hosts) (default C(ansible_play_hosts_all)). C(restart_begin) - C(wave).
        C(restart_end) - C(wave), C(elapsed), C(ok). C(wave_start) - C(wave), C(hosts), C(held).
        C(wave_end) - C(wave), C(hosts), C(held), C(failed), C(stopped), C(message). C(host) - C(rollback)
        (what the rollback role recorded), C(active) (false for a host that left the play).
    type: dict
    default: {}
  render:
    description:
      - Write the report files after appending. Default false for every event but O(event=report) (writing
        the report for every host event costs a full render each time).
    type: bool
  merge:
    description:
      - For O(event=report) and O(event=run_end), report directories (or run folders) of other runs to merge,
        for example the slices of an AWX sliced job. A later directory wins a host over an earlier one and
        this run's own hosts win over all. A report directory of the collection's first version
        (C(hosts/*.json)) is read too.
    type: list
    elements: path
    default: []
  calendar_year:
    description: Year of the release calendar in the report. Default the year of the hosts' release cycle.
    type: int
  catalog:
    description:
      - Extra release catalog rows for the calendar (as C(hotpatch_catalog)). Default C(hotpatch_catalog);
        O(event=run_start) keeps them in the journal so that every later render draws the same calendar.
    type: raw
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The journal and the report are controller files and are written in check mode too; the report of a
        check-mode run is labelled as a plan (C(check_mode=true)).
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - The watcher is a Python process (the controller's Python, this collection's code and the standard
    library only) in its own session, with no terminal. It ends moments after C(ansible-playbook) does.
    Where the whole process tree is killed at once (a container stopped), the next run marks the run
    interrupted instead.
  - Journal lines are appended with C(O_APPEND) under an exclusive C(flock) and hold at most one event each; a
    reader skips a line a killed writer left incomplete.
seealso:
  - module: hotpatch.windows.baseline_info
  - plugin: hotpatch.windows.host_plan
    plugin_type: filter
author:
  - hotpatch.windows developers (@hotpatch-windows)
"""

EXAMPLES = r"""
- name: Open the run (first play, once)
  hotpatch.windows.journal:
    event: run_start
    data:
      playbook: patch
      settings:
        patch_batch_size: "{{ patch_batch_size }}"
        patch_max_per_group: "{{ patch_max_per_group }}"
  run_once: true

- name: Journal the host's record after its assessment
  hotpatch.windows.journal:
    event: host
    stage: assess
    status: "{{ hotpatch_status }}"
    plan: "{{ hotpatch_plan }}"

- name: Journal a restart of the host
  hotpatch.windows.journal:
    event: restart_begin
    data:
      wave: 1

- name: Journal the end of that restart
  hotpatch.windows.journal:
    event: restart_end
    data:
      wave: 1
      elapsed: 42.5
      ok: true

- name: End the run and write the report
  hotpatch.windows.journal:
    event: run_end
  run_once: true

- name: Write the report and keep its summary
  hotpatch.windows.journal:
    event: report
  run_once: true
  register: journal_report
"""

RETURN = r"""
event:
  description: The event written.
  returned: always
  type: str
  sample: host
run:
  description: The run written to. Its folder holds C(journal.jsonl) and the report files.
  returned: success
  type: dict
  contains:
    id:
      description: The run's id, the name of its folder.
      type: str
      sample: 20261125T231500Z-3f2a
    dir:
      description: The run folder (absolute).
      type: str
      sample: /srv/reports/hotpatch/20261125T231500Z-3f2a
created:
  description: This task opened the run.
  returned: when the run was opened by this task
  type: bool
watcher:
  description: The pid of the watcher started for a new run.
  returned: when the run was opened by this task and its watcher started
  type: int
marked_interrupted:
  description: Folders of earlier runs of dead controllers that this task marked interrupted.
  returned: when there were such runs
  type: list
  elements: str
hosts:
  description: How many host records were journaled (O(event=host)).
  returned: for O(event=host)
  type: int
summary:
  description:
    - The fleet summary (as C(fleet.json) holds it without C(hosts), C(calendar) and C(timeline)) - counts
      by action and by status, restarts done and avoided, most hosts down at once, the run's state and length,
      failed, deferred and not-reached hosts, and the paths of the report files.
  returned: for O(event=run_end), O(event=report), and when O(render=true)
  type: dict
ansible_facts:
  description: The run, for later tasks and plays.
  returned: for O(event=run_start)
  type: dict
  contains:
    hotpatch_run:
      description:
        - C({id, dir, journal, report_dir, controller, check_mode, started}) of the run. It names the
          C(ansible-playbook) process it belongs to, so a value cached by an earlier process is ignored.
      type: dict
elapsed:
  description: Seconds the task took on the controller.
  returned: success
  type: float
"""
