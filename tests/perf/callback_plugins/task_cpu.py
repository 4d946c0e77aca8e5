# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark aid (tests/perf, not shipped): controller CPU per task of a playbook run.

At each task's start it reads os.times() of the ansible-playbook process: its own CPU (the main process,
which queues every task of every host, serially) and the CPU of the worker processes it has waited for
(one fork per task and host). The difference until the next task's start is that task's cost; tasks of the
same name (one per wave, for instance) add up. Workers reaped a little late move a few milliseconds to the
next task. Written as JSON to HOTPATCH_TASK_CPU at the end of the run.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_cpu
type: aggregate
short_description: controller CPU per task (benchmark aid)
description:
  - Writes the controller CPU of each task (main process and worker processes) to the file named by the
    environment variable HOTPATCH_TASK_CPU.
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_cpu"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None  # (name, main CPU, workers' CPU, wall) at the task's start
        self._tasks = {}  # name -> {main, workers, wall, results}

    @staticmethod
    def _snapshot():
        times = os.times()
        return times.user + times.system, times.children_user + times.children_system, time.monotonic()

    def _close(self):
        if self._current is None:
            return
        name, main, workers, wall = self._current
        now_main, now_workers, now_wall = self._snapshot()
        row = self._row(name)
        row["main"] += now_main - main
        row["workers"] += now_workers - workers
        row["wall"] += now_wall - wall
        self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), *self._snapshot())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _row(self, name):
        return self._tasks.setdefault(name, {"main": 0.0, "workers": 0.0, "wall": 0.0, "results": 0})

    def _count(self, result):
        if self._current is not None:
            self._row(self._current[0])["results"] += 1

    v2_runner_on_ok = v2_runner_on_skipped = v2_runner_on_unreachable = _count

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("HOTPATCH_TASK_CPU")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._tasks, handle, indent=1)
