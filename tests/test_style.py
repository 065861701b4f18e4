"""``make check``'s style checks (ruff on the Python, snakefmt on the workflow), run by the tests so CI, which runs
``make test``, sees them too."""

import subprocess
import sys

import pytest
from conftest import REPO

CHECKS = {
    "ruff lint": ["ruff", "check", "."],
    "ruff format": ["ruff", "format", "--check", "."],
    "snakefmt": ["snakefmt", "--check", "."],
}


@pytest.mark.parametrize("command", CHECKS.values(), ids=CHECKS.keys())
def test_style_check_finds_nothing(command):
    result = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
