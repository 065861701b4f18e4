"""What the workflow benchmarks share: the repository, the default config, and the snakemake command line."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    """The default run's config (config/config.yaml)."""
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def snakemake_command(workdir: Path, *args: str, cores: int = 2, overlay: dict | None = None) -> list[str]:
    """``snakemake`` on the repository's workflow in ``workdir``; ``overlay`` goes to ``workdir/overlay.yaml``."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    command += ["--cores", str(cores)]
    if overlay:
        path = workdir / "overlay.yaml"
        path.write_text(yaml.safe_dump(overlay))
        command += ["--configfile", str(path)]
    return command
