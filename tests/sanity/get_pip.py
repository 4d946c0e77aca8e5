"""Stand-in for the ``get-pip.py`` that ansible-test downloads to bootstrap pip in its sanity venvs.

ansible-test (``ansible_test/_util/target/setup/requirements.py``) fetches ``get-pip-<version>.py`` from
its own file server unless ``~/.ansible/test/cache/get_pip_<version>.py`` exists; that server is not one
of the package registries a machine of this project reaches. ``get-pip.py`` is pip's wheel with a runner
around it: this file is that runner, next to pip's wheel from PyPI (``tests/sanity/prepare.py`` puts
both in place). It is run as ``python get_pip_<version>.py [pip options] pip==<version> ...`` by the new,
empty venv's python and installs the listed packages into it, with pip run from the wheel.
"""

import sys
from pathlib import Path

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")  # get-pip.py's own options: nothing to add implicitly

wheels = sorted(Path(__file__).resolve().parent.glob("pip-*-py3-none-any.whl"))
if not wheels:
    sys.exit(f"no pip wheel beside {__file__}: run tests/sanity/prepare.py")
sys.path.insert(0, str(wheels[-1]))

from pip._internal.cli.main import main  # noqa: E402  (imported from the wheel just put on the path)

sys.exit(main(["install", *(arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY)]))
