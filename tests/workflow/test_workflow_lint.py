"""CI checks of the workflow itself: lint clean, and every shipped config plans without error."""

import subprocess
import sys

import pytest

from conftest import REPO, SNAKEFILE

pytestmark = pytest.mark.workflow

CONFIGS = [None, *sorted((REPO / "config" / "examples").glob("*.yaml"))]


def snakemake(*args, cwd):
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(cwd), "--cores", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_lint_has_no_findings(tmp_path):
    result = snakemake("--lint", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


@pytest.mark.parametrize("configfile", CONFIGS, ids=lambda p: "default" if p is None else p.name)
def test_dry_run_plans_the_whole_workflow(tmp_path, configfile):
    args = ["-n"] + (["--configfile", str(configfile)] if configfile else [])
    result = snakemake(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for rule in ("validate_data", "fit", "verdict", "report"):
        assert f"rule {rule}:" in result.stdout or f"localrule {rule}:" in result.stdout, rule
    assert not (tmp_path / "results").exists()
