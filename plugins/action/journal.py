# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hotpatch.windows.journal: append to the run journal on the controller, render the report.

Runs on the controller only (no connection to the host is opened) and in check mode as well: the journal
and the report are controller files, and a check-mode run's report is labelled as a plan.
"""

import os
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal, _report
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

EVENTS = ("run_start", "host", "restart_begin", "restart_end", "wave_start", "wave_end", "run_end", "report")
ARGUMENT_SPEC = {
    "event": {"type": "str", "required": True, "choices": list(EVENTS)},
    "dir": {"type": "path"},
    "run": {"type": "raw"},
    "status": {"type": "raw"},
    "plan": {"type": "raw"},
    "outcome": {"type": "raw"},
    "stage": {"type": "str", "default": "final", "choices": list(_journal.HOST_STAGES)},
    "host": {"type": "str"},
    "hosts": {"type": "list", "elements": "str"},
    "data": {"type": "dict", "default": {}},
    "render": {"type": "bool"},
    "merge": {"type": "list", "elements": "path", "default": []},
    "calendar_year": {"type": "int"},
    "catalog": {"type": "raw"},
}
# What a host event takes from the host's own variables (never hostvars wholesale).
HOST_VARS = ("hotpatch_status", "hotpatch_plan", "hotpatch_outcome")
INVENTORY_VARS = {"platform": "hotpatch_platform", "group": "hotpatch_availability_group"}
DATA_KEYS = {
    "wave_start": ("wave", "hosts", "held"),
    "wave_end": ("wave", "hosts", "held", "failed", "stopped", "message"),
    "restart_begin": ("wave",),
    "restart_end": ("wave", "elapsed", "ok"),
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    # ------------------------------------------------------------------ helpers
    def _template(self, value):
        if value is None:
            return None
        try:
            return self._templar.template(value)
        except AnsibleError:
            return None

    def _var(self, task_vars, name, default=None):
        if name in task_vars:
            return self._template(task_vars.get(name))
        return default

    @staticmethod
    def _variables(task_vars, host):
        """Another host's variables, or {}. Read once per host: each read assembles every variable it has."""
        hostvars = task_vars.get("hostvars")
        try:
            if host not in hostvars:  # HostVars answers an unknown host with an undefined value, not KeyError
                return {}
            return hostvars[host]
        except (KeyError, TypeError, AnsibleError):
            return {}

    def _hostvar(self, variables, name):
        """One variable of a host's ``_variables`` (templated), or None."""
        try:
            value = variables[name]
        except (KeyError, TypeError, AnsibleError):
            return None
        return self._template(value)

    def _catalog(self, args, task_vars):
        catalog = args.get("catalog")
        if catalog is None:
            catalog = self._var(task_vars, "hotpatch_catalog")
        return catalog if catalog not in ("", [], {}) else None

    def _controller(self):
        return _journal.controller_of()

    def _check_mode(self):
        return bool(self._play_context.check_mode)

    def _run(self, args, task_vars, root, controller):
        """(run, created): the run named by ``run`` or ``hotpatch_run``, else this controller's run under the
        report directory, else a new one."""
        explicit = args.get("run")
        if isinstance(explicit, str) and explicit:
            path = _journal.Path(os.path.realpath(os.path.expanduser(explicit)))
            if not (path / _journal.JOURNAL).is_file():
                raise _journal.JournalError(f"run {explicit}: no {_journal.JOURNAL} in that folder")
            return _journal.Run(path.name, path), False
        candidates = [explicit]
        facts = task_vars.get("ansible_facts")
        if isinstance(facts, dict) and facts.get("hotpatch_run"):
            candidates.append(facts.get("hotpatch_run"))
        else:  # set with set_fact; the injected top-level fact is deprecated from ansible-core 2.20 on
            candidates.append(task_vars.get("hotpatch_run"))
        for candidate in candidates:
            candidate = self._template(candidate)
            run = _journal.run_of_fact(candidate, controller)
            if run is not None and run.report_dir == root:
                return run, False
        return self._open(args, task_vars, root, controller, auto=True)

    def _open(self, args, task_vars, root, controller, auto=False):
        data = dict(args.get("data") or {}) if not auto else {}
        catalog = self._catalog(args, task_vars)
        start = {
            "playbook": data.get("playbook"),
            "check_mode": self._check_mode(),
            "settings": data.get("settings") or {},
            "hosts": [
                str(h) for h in (data.get("hosts") or self._var(task_vars, "ansible_play_hosts_all") or [])
            ],
            "catalog": _catalog_freshness(catalog),
        }
        if auto:
            start["settings"] = {"started_by": f"the first {args['event']} event (no run_start before it)"}
        run, created = _journal.open_run(root, controller, start)
        if created:
            watcher = _journal.start_watcher(run, controller)
            self._watcher = watcher
            for old in _journal.unfinished_runs(root, keep=run):
                if _journal.mark_interrupted(old, "next run"):
                    try:
                        _report.render_run(old)
                    except Exception as exc:  # an old run's report must not stop this run
                        self._display.warning(f"could not render the interrupted run {old.dir}: {exc}")
                    self._interrupted.append(str(old.dir))
        return run, created

    # ------------------------------------------------------------------ events
    def _host_event(self, args, task_vars, host, own, active_hosts):
        """The journal line of one host: from the task's options (own) or from the host's variables;
        ``active_hosts``: the play's hosts still running (``ansible_play_hosts``), or None."""
        variables = self._variables(task_vars, host)
        if own:
            status, plan, outcome = args.get("status"), args.get("plan"), args.get("outcome")
        else:
            status, plan, outcome = (self._hostvar(variables, name) for name in HOST_VARS)
        extra = dict(args.get("data") or {}) if own else {}
        inventory = {}
        for key, name in INVENTORY_VARS.items():
            value = self._hostvar(variables, name)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                inventory[key] = str(value)
        extra.setdefault("inventory", inventory)
        if "rollback" not in extra:
            rollback = self._hostvar(variables, "rollback_result")
            if isinstance(rollback, dict):
                extra["rollback"] = rollback
        extra.setdefault("assessed_at", self._hostvar(variables, "hotpatch_assessed_at"))
        if "active" not in extra and isinstance(active_hosts, list):
            extra["active"] = host in active_hosts
        extra["stage"] = args["stage"]
        record = _report.host_record(host, status, plan, outcome, extra)
        return _journal.event_line("host", {"host": host, "stage": args["stage"], "record": record})

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        task_vars = task_vars or {}
        self._interrupted = []
        self._watcher = None
        _spec, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        event = args["event"]
        host = args.get("host") or task_vars.get("inventory_hostname")
        root = _journal.report_root(args.get("dir") or self._var(task_vars, "hotpatch_report_dir"))
        controller = self._controller()
        started = time.monotonic()
        try:
            if event == "run_start":
                run, created = self._open(args, task_vars, root, controller)
            else:
                run, created = self._run(args, task_vars, root, controller)
            result = {"changed": False, "event": event, "run": {"id": run.id, "dir": str(run.dir)}}
            if created:
                result["created"] = True
                if self._watcher is not None:
                    result["watcher"] = self._watcher
                if self._interrupted:
                    result["marked_interrupted"] = self._interrupted
            render = args.get("render")
            summary = None
            if event == "run_start":
                result["ansible_facts"] = {"hotpatch_run": run.fact()}
            elif event == "host":
                names = args.get("hosts")
                active = self._var(task_vars, "ansible_play_hosts")
                lines = (
                    [self._host_event(args, task_vars, name, False, active) for name in names]
                    if names is not None
                    else [self._host_event(args, task_vars, host, True, active)]
                )
                _journal.append(run.journal, lines)
                result["hosts"] = len(lines)
            elif event in DATA_KEYS:
                data = dict(args.get("data") or {})
                line = {key: data[key] for key in DATA_KEYS[event] if key in data}
                if event.startswith("restart_"):
                    line["host"] = str(data.get("host") or host)
                if event.startswith("wave_") and "wave" not in line:
                    raise HotpatchError(f"{event} needs data.wave (the wave number)")
                _journal.append(run.journal, [_journal.event_line(event, line)])
            elif event == "run_end":
                report = _report.build(
                    run,
                    _report.sources_of(run, args.get("merge")),
                    report_dir=run.report_dir,
                    calendar_year=args.get("calendar_year"),
                    catalog=self._catalog(args, task_vars),
                    finishing=True,
                )
                summary = dict(report.summary, state="finished")
                # a second run_end (the report role run twice in one playbook) carries the newer summary
                _journal.append(
                    run.journal,
                    [_journal.event_line("run_end", {"state": "finished", "summary": summary})],
                    fsync=True,
                )
            if event == "report" or render:
                summary = _report.render_run(
                    run,
                    merge=args.get("merge"),
                    calendar_year=args.get("calendar_year"),
                    catalog=self._catalog(args, task_vars),
                    alive=True,
                )
            if summary is not None:
                result["summary"] = summary
            result["elapsed"] = round(time.monotonic() - started, 4)
            return result
        except (HotpatchError, _journal.JournalError, OSError) as exc:
            return {"failed": True, "changed": False, "msg": f"hotpatch.windows.journal ({event}): {exc}"}


def _catalog_freshness(catalog):
    """The catalog's newest month per OS, its sources and the user's own rows (so a later render, the
    watcher's too, draws the same calendar)."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import load_catalog

    try:
        loaded = load_catalog(catalog)
    except HotpatchError as exc:
        return {"error": str(exc)}
    return {
        "newest_month": {os_name: loaded.newest_month(os_name) for os_name in ("2022", "2025")},
        "sources": sorted(str(key) for key in loaded.sources),
        "rows": loaded.rows(origin="user"),
    }
