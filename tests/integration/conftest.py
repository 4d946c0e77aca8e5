"""Applies the restart-safety invariant (restart_safety.py) to every `tests.lab.Lab` of the test session.

The audit callback plugin is enabled for every ansible run started from this process (environment
variables, which ansible-playbook, ansible-runner and molecule pass on), and `Lab.__exit__` is wrapped to
check the lab's ledger against what the runs planned. A broken invariant fails the test that used the lab.
Tests need not change: `with Lab(...) as lab:` is checked as it is.

It also holds `lab_scenarios`, the session's pool of fault-suite lab runs.
"""

import atexit
import os
import tempfile
from pathlib import Path

import pytest

from tests.integration import restart_safety
from tests.integration.faults.runs import ScenarioPool
from tests.lab import control

CALLBACK_DIR = Path(__file__).resolve().parent / "faults" / "callback_plugins"
CALLBACK_NAME = "hotpatch_restart_audit"


def _join(old: str, new: str, first: bool) -> str:
    parts = [p for p in old.split(os.pathsep if first else ",") if p] if old else []
    if new in parts:
        return old
    return (os.pathsep if first else ",").join([new, *parts] if first else [*parts, new])


def _enable_audit() -> str:
    """Enables the audit callback for this process's ansible runs; returns its audit file (one a process)."""
    if os.environ.get("HOTPATCH_RESTART_AUDIT"):
        return os.environ["HOTPATCH_RESTART_AUDIT"]
    handle, path = tempfile.mkstemp(prefix="hotpatch-restart-audit-", suffix=".jsonl")
    os.close(handle)
    atexit.register(lambda: Path(path).unlink(missing_ok=True))
    os.environ["HOTPATCH_RESTART_AUDIT"] = path
    os.environ["ANSIBLE_CALLBACK_PLUGINS"] = _join(
        os.environ.get("ANSIBLE_CALLBACK_PLUGINS", ""), str(CALLBACK_DIR), first=True
    )
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = _join(
        os.environ.get("ANSIBLE_CALLBACKS_ENABLED", ""), CALLBACK_NAME, first=False
    )
    return path


AUDIT = _enable_audit()


def _install() -> None:
    lab_class = control.Lab
    if getattr(lab_class, "_restart_safety_wrapped", False):
        return
    original_enter, original_exit = lab_class.__enter__, lab_class.__exit__

    def __enter__(self):
        path = Path(AUDIT)
        self._restart_audit_offset = path.stat().st_size if path.exists() else 0
        return original_enter(self)

    def __exit__(self, exc_type, exc, traceback):
        original_exit(self, exc_type, exc, traceback)  # stop first: the ledger is then complete
        result = restart_safety.check_lab(self, AUDIT, getattr(self, "_restart_audit_offset", 0))
        if exc_type is None:
            restart_safety.assert_safe(result, f"the lab in {self.state_dir}")
        return False

    lab_class.__enter__ = __enter__
    lab_class.__exit__ = __exit__
    lab_class._restart_safety_wrapped = True


_install()


@pytest.fixture(scope="session")
def lab_scenarios(request, tmp_path_factory):
    """The lab scenarios of the fault and secrets tests (tests/integration/faults/runs.py). In a serial run
    those of the selected test modules start together on first use; under pytest-xdist each worker runs only
    those its tests ask for."""
    pool = ScenarioPool(tmp_path_factory)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        modules = {getattr(item, "module", None) for item in request.session.items}
        pool.start({module.__name__ for module in modules if module is not None})
    yield pool
    pool.close()
