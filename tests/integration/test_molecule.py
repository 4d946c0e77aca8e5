"""Run each molecule scenario of extensions/molecule (`molecule test -s NAME` from extensions/).

Each scenario starts a lab fleet, runs the installed collection's patch playbook against it and asserts on
the lab's ledger. The installed collection (tests/conftest.py) is what the nested ansible-playbook uses.

The scenarios spend most of their time waiting (hosts restarting), so without pytest-xdist they are started
together, HOTPATCH_MOLECULE_PARALLEL (default 3) at a time, when the first of these tests runs; each test
then checks its own scenario. Under pytest-xdist each test runs its own scenario.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSIONS = REPO / "extensions"
SCENARIOS = sorted(
    path.parent.name
    for path in (EXTENSIONS / "molecule").glob("*/molecule.yml")
    if path.parent.name != "resources"
)
TIMEOUT = 1200
PARALLEL = int(os.environ.get("HOTPATCH_MOLECULE_PARALLEL", "3"))


def _molecule() -> str:
    beside_python = Path(sys.executable).parent / "molecule"
    return str(beside_python) if beside_python.exists() else (shutil.which("molecule") or "molecule")


def _run_scenario(scenario: str, collections: str, work: Path) -> tuple:
    """(returncode, output) of `molecule test -s scenario`; its ephemeral files under `work`."""
    env = dict(os.environ)
    env.update(
        {
            "HOTPATCH_COLLECTIONS_PATH": collections,
            "ANSIBLE_COLLECTIONS_PATH": collections,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_FORCE_COLOR": "false",
            "NO_COLOR": "1",
            # one ephemeral directory per scenario run, so scenarios can run at the same time
            "MOLECULE_EPHEMERAL_DIRECTORY": str(work / "ephemeral"),
            "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
        }
    )
    try:
        run = subprocess.run(
            [_molecule(), "test", "-s", scenario],
            cwd=EXTENSIONS,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return None, f"did not finish in {TIMEOUT}s:\n{exc.stdout or ''}"
    return run.returncode, run.stdout + run.stderr


@pytest.fixture(scope="session")
def molecule_results(request, installed_collection, tmp_path_factory):
    """{scenario: Future of (returncode, output)}; the selected scenarios all start at once, unless
    pytest-xdist splits them."""
    collections = str(installed_collection.parents[2])
    base = tmp_path_factory.mktemp("molecule")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        yield {"collections": collections, "base": base, "futures": None}
        return
    selected = sorted(
        {
            item.callspec.params["scenario"]
            for item in request.session.items
            if item.name.startswith("test_molecule_scenario[") and hasattr(item, "callspec")
        }
    )
    with ThreadPoolExecutor(max_workers=max(PARALLEL, 1)) as pool:
        futures = {
            name: pool.submit(_run_scenario, name, collections, Path(tempfile.mkdtemp(dir=base, prefix=name)))
            for name in selected
        }
        yield {"collections": collections, "base": base, "futures": futures}


def test_every_scenario_is_collected():
    assert set(SCENARIOS) >= {"hotpatch_month", "baseline_month", "failure", "idempotence"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, molecule_results):
    if molecule_results["futures"] is None:
        work = Path(tempfile.mkdtemp(dir=molecule_results["base"], prefix=scenario))
        returncode, output = _run_scenario(scenario, molecule_results["collections"], work)
    else:
        returncode, output = molecule_results["futures"][scenario].result()
    assert returncode == 0, f"molecule scenario {scenario} failed (rc {returncode}):\n{output[-12000:]}"
    assert re.search(rf"\[{scenario} > verify\] \S*Executed: \S*Successful", output), (
        f"molecule scenario {scenario} did not verify:\n{output[-4000:]}"
    )
