"""What a fresh checkout and the tarball promise: a licence file, lint that needs no offline mode, a demo
that installs only what it needs."""

import subprocess

import yaml

from tests.conftest import INSTALLED, REPO


def test_the_tarball_ships_the_gpl_that_galaxy_yml_and_the_modules_name():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    copying = (INSTALLED / "COPYING").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in copying and "Version 3, 29 June 2007" in copying
    for module in (INSTALLED / "plugins" / "modules").glob("*.py"):
        assert "see COPYING" in module.read_text().splitlines()[0], module


def test_plain_ansible_lint_is_the_production_profile_without_offline_mode():
    config = yaml.safe_load((REPO / ".ansible-lint").read_text())
    assert config["profile"] == "production"
    assert not config.get("offline"), "a fresh checkout's `ansible-lint` must not need offline mode"
    makefile = (REPO / "Makefile").read_text()
    assert "$(BIN)/ansible-lint," in makefile  # make lint runs it plain, as a newcomer would


def test_make_demo_installs_only_what_the_demo_needs():
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO / "build")},
    ).stdout
    installs = [line for line in dry_run.splitlines() if "pip install" in line]
    assert installs == [line for line in installs if "-r requirements.txt" in line], installs
    assert "requirements-dev.txt" not in dry_run and ".venv/" not in dry_run, dry_run
    assert "tests/collection_deps.py" in dry_run  # ansible.windows alone, not the `ansible` package
    assert dry_run.count("[demo ") == 4  # a progress line per step
