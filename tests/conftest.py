"""Shared fixtures: the repository paths and a runner for the workflow on tiny configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
DATA = Path(__file__).resolve().parent / "data"

#: Sampler settings small enough for workflow tests; statistics are not judged on them.
TINY_SAMPLER = {"chains": 2, "draws": 100, "tune": 100}


def run_snakemake(workdir: Path, config: dict | None = None, *args: str, cores: int = 2, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with ``config`` overlaid on the default config."""
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir), "--cores", str(cores)]
    if config is not None:
        path = workdir / "test_config.yaml"
        path.write_text(yaml.safe_dump(config))
        command += ["--configfile", str(path)]
    command += list(args)
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture
def hospital12():
    from binoval.data import load_dataset

    return load_dataset("hospital12")


def tiny_config(keep: tuple[str, ...], **extra) -> dict:
    """An overlay that keeps only the model ids in ``keep`` and uses tiny sampler settings."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    models = {model_id: {"enabled": model_id in keep} for model_id in default["models"]}
    config = {"run": "tiny", "sampler": dict(TINY_SAMPLER), "models": models}
    config.update(extra)
    return config
