"""galaxy-importer, what Galaxy and Automation Hub run on upload, accepts the built tarball with no error.

Configured by tests/galaxy/galaxy-importer.cfg: no container, no network (it would start ansible-test in a
container; `make test` runs ansible-test sanity itself, tests/sanity/run.sh).
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import COLLECTIONS, REPO


def test_galaxy_importer_accepts_the_tarball(tmp_path):
    tarballs = sorted((COLLECTIONS.parent / "dist").glob("hotpatch-windows-*.tar.gz"))
    assert len(tarballs) == 1, f"expected one built tarball, found {tarballs}: run `make collection`"
    env = dict(
        os.environ,
        GALAXY_IMPORTER_CONFIG=str(REPO / "tests" / "galaxy" / "galaxy-importer.cfg"),
        PATH=os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
        HOME=str(tmp_path),
        # As on Galaxy, only the imported collection: its ansible-doc pass would otherwise read every
        # collection of the development venv's `ansible` package (3x slower)
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
    )
    done = subprocess.run(
        [sys.executable, "-m", "galaxy_importer.main", str(tarballs[0])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Importer processing completed successfully" in output, output
    problems = [line for line in output.splitlines() if line.startswith(("ERROR", "WARNING"))]
    assert not problems, "\n".join(problems)
