# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run watcher: a tiny detached process that marks a run interrupted when its controller dies.

FOR INTERNAL COLLECTION USE ONLY: started by ``_journal.start_watcher`` at ``run_start``; its command line
may change in any release.

    python _watcher.py --run RUN_DIR --pid CONTROLLER_PID [--start START_TICKS]

It runs in its own session (``start_new_session``) with stdin and stdout on /dev/null, so the signal that
stops ``ansible-playbook`` (Ctrl-C, SIGTERM, an AWX cancel) does not reach it. It waits for the controller
process to end (a pidfd where Linux has one, else a poll every second), then reads the journal: if the run
has no ``run_end`` (and no ``run_interrupted``), it appends ``run_interrupted`` and renders the report
(marked interrupted, every host journaled so far). A finished run is left alone. It needs only the
standard library and this collection (PyYAML for the release catalog, which ansible-core ships).
"""

import argparse
import os
import select
import sys
import time
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    # run as a script: import the collection from the ansible_collections tree this file is in
    for _parent in Path(__file__).resolve().parents:
        if _parent.name == "ansible_collections":
            if str(_parent.parent) not in sys.path:
                sys.path.insert(0, str(_parent.parent))
            break

POLL_SECONDS = 1.0


def wait_for_exit(pid, start=None, poll=POLL_SECONDS):
    """Return once process ``pid`` (started at ``start`` ticks, when known) no longer runs."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._journal import is_alive

    controller = {"pid": pid, "start": start}
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    try:
        # the pidfd was opened after the pid was checked: check again so a reused pid is not waited for
        while is_alive(controller):
            if pidfd is not None:
                select.select([pidfd], [], [], 60.0)
            else:
                time.sleep(poll)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def finish(run_dir, by="watcher"):
    """Mark the run interrupted if it did not finish, and render its report. Returns what was done."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal, _report

    run = _journal.Run(Path(run_dir).name, Path(run_dir))
    if not _journal.mark_interrupted(run, by):
        return "finished"
    _report.render_run(run)
    return "interrupted"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="the run folder")
    parser.add_argument("--pid", required=True, type=int, help="the controller (ansible-playbook) pid")
    parser.add_argument("--start", type=int, default=None, help="the controller's start time (ticks)")
    args = parser.parse_args(argv)
    wait_for_exit(args.pid, args.start)
    finish(args.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
