"""Where the C++ tools are: LLM_FUSION_BIN, else the default build folder."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "importer"))


@pytest.fixture(scope="session")
def bin_dir():
    path = os.environ.get("LLM_FUSION_BIN", str(ROOT / "build" / "bin"))
    tool = pathlib.Path(path) / "fusion-opt"
    assert tool.exists(), f"{tool} is missing: build the project first (scripts/build.sh)"
    return path
