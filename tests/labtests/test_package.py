"""The lab as a package of its own (hotpatch-lab): build the wheel from tests/lab, install it outside this
repository, copy its molecule scenario template into a directory outside the repository and run `molecule
test` there against the built collection, as a user whose CI has no Windows would."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.labtests.helpers import REPO

SOURCE = REPO / "tests" / "lab"


def run(command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            digest.update(str(path.relative_to(SOURCE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_wheel(tmp: Path) -> Path:
    """The wheel of tests/lab, built once per source state and kept under build/lab-wheel."""
    cache = REPO / "build" / "lab-wheel" / source_digest()
    found = list(cache.glob("hotpatch_lab-*.whl"))
    if found:
        return found[0]
    source = tmp / "src"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    dist = tmp / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)]
    built = run([*command[:5], "--no-build-isolation", *command[5:]], timeout=300)
    if built.returncode != 0:
        # this venv's setuptools cannot build wheels by itself: let pip fetch a build backend from the index
        built = run(command, timeout=600)
    if built.returncode != 0 and "No matching" in built.stderr:
        pytest.skip(f"cannot fetch a wheel build backend (no package index?): {built.stderr[-500:]}")
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list(dist.glob("hotpatch_lab-*.whl"))
    assert len(wheels) == 1
    cache.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(wheels[0], cache / wheels[0].name))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """site directory with hotpatch_lab installed from its wheel (its dependencies come from this venv)."""
    tmp = tmp_path_factory.mktemp("package")
    assert not str(tmp).startswith(str(REPO))
    wheel = build_wheel(tmp)
    site = tmp / "site"
    done = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ],
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = {p.name for p in (site / "hotpatch_lab").iterdir()}
    assert {"releases.yml", "__main__.py", "template", "fleets"} <= names
    return site


def env_for(site: Path, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        {
            "PYTHONPATH": str(site),
            "PATH": os.pathsep.join(
                [str(site / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
            ),
            "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
            "ANSIBLE_NOCOLOR": "true",
            "NO_COLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp / "ephemeral"),
        }
    )
    return env


def test_the_package_runs_outside_the_repository(installed, tmp_path):
    env = env_for(installed, tmp_path)
    where = run(
        [sys.executable, "-c", "import hotpatch_lab, sys; print(hotpatch_lab.__file__)"],
        env=env,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr
    fleet = installed / "hotpatch_lab" / "template" / "fleet.yml"
    state = tmp_path / "lab"
    started = run(
        [str(installed / "bin" / "hotpatch-lab"), "start", "--fleet", str(fleet), "--state", str(state)],
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    try:
        assert started.returncode == 0, started.stderr
        assert (state / "inventory.yml").exists()
        state_out = run(
            [sys.executable, "-m", "hotpatch_lab", "state", "--state", str(state)],
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert '"KB5075942"' in state_out.stdout, state_out.stderr
    finally:
        run(
            [sys.executable, "-m", "hotpatch_lab", "stop", "--state", str(state)],
            env=env,
            cwd=tmp_path,
            timeout=60,
        )


def test_the_molecule_template_runs_outside_the_repository(installed, tmp_path, installed_collection):
    env = env_for(installed, tmp_path)
    project = tmp_path / "my-playbooks"
    copied = run(
        [str(installed / "bin" / "hotpatch-lab"), "template", str(project / "molecule" / "default")],
        env=env,
        timeout=60,
    )
    assert copied.returncode == 0, copied.stderr
    molecule = Path(sys.executable).parent / "molecule"
    result = run([str(molecule), "test", "-s", "default"], env=env, cwd=project, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "verify" in output and "Executed: Successful" in output
