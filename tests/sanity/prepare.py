"""Prepare an offline-safe ``ansible-test sanity`` run of the built collection for one ansible-core.

    <core venv>/bin/python tests/sanity/prepare.py TARBALL TREE HOME

Run with the python of the venv that holds the ansible-core under test. It

- lays the tarball's content out as ``TREE/ansible_collections/hotpatch/windows`` (ansible-test wants that
  path), afresh each time, as a git work tree of its own: ansible-test lists a collection's files with git
  when a parent directory is a git work tree, and this repository ignores ``build/``;
- writes ``tests/sanity/known-findings.txt`` (ansible-test's ignore-file format) as that tree's
  ``tests/sanity/ignore-<core>.txt``: findings in code that another change is rewriting, each with its
  reason. The tarball ships no ignore file (ansible-lint's production profile forbids such ignores), so
  each line there is a debt that ansible-test flags as unnecessary once the finding is gone;
- puts the stand-in for ansible-test's ``get-pip.py`` (``tests/sanity/get_pip.py`` and pip's wheel from
  PyPI, the version this ansible-test asks for) into ``HOME/.ansible/test/cache``, so that ansible-test,
  run with ``HOME=HOME``, bootstraps its sanity venvs from the package registry only. Those venvs stay in
  ``HOME/.ansible/test/venv`` and are reused by the next run.
"""

import shutil
import subprocess
import sys
import tarfile
import types
from pathlib import Path

from ansible.release import __version__ as core_version
from ansible_test._internal.python_requirements import get_venv_packages

HERE = Path(__file__).resolve().parent


def lay_out(tarball: Path, tree: Path) -> Path:
    root = tree / "ansible_collections" / "hotpatch" / "windows"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(root, filter="data")
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)  # untracked files are listed too
    return root


def known_findings(root: Path) -> None:
    lines = [line for line in (HERE / "known-findings.txt").read_text().splitlines() if line.strip()]
    if lines:
        core = ".".join(core_version.split(".")[:2])
        ignore = root / "tests" / "sanity" / f"ignore-{core}.txt"
        ignore.parent.mkdir(parents=True, exist_ok=True)
        ignore.write_text("\n".join(lines) + "\n")


def stand_in(home: Path) -> str:
    python = types.SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    version = get_venv_packages(python)["pip"]
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / f"pip-{version}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"),
                *("--dest", str(cache), f"pip=={version}"),
            ],
            check=True,
        )
    shutil.copyfile(HERE / "get_pip.py", cache / f"get_pip_{version.replace('.', '_')}.py")
    return version


def main() -> None:
    tarball, tree, home = (Path(arg).resolve() for arg in sys.argv[1:4])
    root = lay_out(tarball, tree)
    known_findings(root)
    version = stand_in(home)
    print(f"sanity tree {root}; pip {version} bootstrap from PyPI's wheel in {home}/.ansible/test/cache")


if __name__ == "__main__":
    main()
