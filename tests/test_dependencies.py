"""The lock file, the declared ranges and the conda environment agree."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def locked_versions() -> dict[str, str]:
    lines = (REPO / "envs" / "requirements.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    assert all(len(pin) == 2 for pin in pins), "every line of the lock file is name==version"
    return {canonicalize_name(name): version for name, version in pins}


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = [req for group in project.get("optional-dependencies", {}).values() for req in group]
    return [Requirement(text) for text in project["dependencies"] + extras]


def test_every_declared_range_is_a_range_and_admits_the_locked_version():
    locked = locked_versions()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(locked[name]), f"locked {name}=={locked[name]} is outside {requirement}"
        assert not any(spec.operator == "==" for spec in requirement.specifier), f"{requirement} pins, use a range"


def test_core_stack_is_current():
    locked = locked_versions()
    assert SpecifierSet(">=6.4,<7").contains(locked["pymc"])
    assert SpecifierSet(">=1.3,<2").contains(locked["arviz"])
    assert SpecifierSet(">=0.16.11").contains(locked["nutpie"])


def test_conda_environment_uses_the_lock_and_the_declared_python():
    env = (REPO / "envs" / "binoval.yaml").read_text()
    assert "-r requirements.txt" in env
    conda_python = re.search(r"python=(\d+\.\d+)", env).group(1)
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(conda_python + ".0")
