"""Shared fixtures: the zflow binary and the source tree (set by CTest)."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def zflow_bin():
    path = os.environ.get("ZFLOW_BIN", str(ROOT / "build" / "zflow"))
    assert os.path.exists(path), f"{path}: build zflow first"
    return path


@pytest.fixture
def examples():
    return ROOT / "examples"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh directory as the current one: runs keep their S3 root and work there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZFLOW_S3_ROOT", raising=False)
    return tmp_path
