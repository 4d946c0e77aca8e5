"""Shared pytest set-up: tests import and run the *installed* collection (built by `make collection`)."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", REPO / "build" / "collections")).resolve()
INSTALLED = COLLECTIONS / "ansible_collections" / "hotpatch" / "windows"

if not INSTALLED.is_dir():
    raise pytest.UsageError(f"the collection is not installed at {INSTALLED}: run `make test`")

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))


@pytest.fixture(scope="session")
def installed_collection() -> Path:
    """Path of the installed hotpatch.windows collection under test."""
    return INSTALLED
