"""One source of defaults: config.yaml, the schema's defaults and config/README.md agree with binoval.defaults."""

import copy
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from binoval import defaults
from binoval.defaults import DEFAULTS, JUDGED, SBC_SAMPLER
from binoval.predictive.statistics import JUDGED_STATISTICS, STATISTIC_NAMES

CONFIG_TEXT = (REPO / "config" / "config.yaml").read_text()
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
README = (REPO / "config" / "README.md").read_text()

#: Keys whose defaults config/README.md documents in prose, not in a table row (the model sections).
PROSE_DOCUMENTED = ("models",)


def resolved_defaults() -> dict:
    """``DEFAULTS`` with every ``JUDGED`` replaced by the registry's judged statistic names."""
    out = copy.deepcopy(DEFAULTS)
    for stage in out["thresholds"].values():
        if stage.get("statistics") == JUDGED:
            stage["statistics"] = list(JUDGED_STATISTICS)
    return out


def leaves(tree: dict, prefix: tuple = ()) -> dict[tuple, object]:
    """Key path -> value for every non-dict value and every empty dict of a nested dict."""
    out = {}
    for key, value in tree.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            out.update(leaves(value, path))
        else:
            out[path] = value
    return out


def differences(expected, actual, path=()) -> list[str]:
    """Every key path at which two nested dicts differ, with both values."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                out.append(f"{'.'.join(map(str, (*path, key)))}: missing (default {expected[key]!r})")
            elif key not in expected:
                out.append(f"{'.'.join(map(str, (*path, key)))}: not in binoval.defaults")
            else:
                out += differences(expected[key], actual[key], (*path, key))
        return out
    same = (
        expected == actual
        and type(expected) is type(actual)
        or (
            isinstance(expected, (int, float))
            and isinstance(actual, (int, float))
            and not isinstance(expected, bool)
            and not isinstance(actual, bool)
            and expected == actual
        )
    )
    return [] if same else [f"{'.'.join(map(str, path))}: {actual!r} differs from the default {expected!r}"]


def test_differences_names_the_key_that_disagrees():
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}) == ["a.c: 3 differs from the default 2"]
    assert differences({"a": True}, {"a": 1}) == ["a: 1 differs from the default True"]
    assert differences({"a": 1}, {}) == ["a: missing (default 1)"]


def test_config_yaml_is_the_defaults():
    assert differences(resolved_defaults(), yaml.safe_load(CONFIG_TEXT)) == []


def schema_defaults(node: dict, path: tuple = ()) -> dict[tuple, object]:
    """Key path -> ``default`` of every schema property that is not an object of properties itself."""
    out = {}
    for key, sub in (node.get("properties") or {}).items():
        if "default" in sub and "properties" not in sub:
            out[(*path, key)] = sub["default"]
        out.update(schema_defaults(sub, (*path, key)))
    return out


def test_schema_defaults_are_the_defaults():
    found = schema_defaults(SCHEMA)
    assert ("sbc", "simulations") in found and ("compare", "elpd_tolerance") in found
    flat = leaves(resolved_defaults())
    wrong = [
        f"{'.'.join(p)}: schema says {v!r}, binoval.defaults {flat.get(p, 'nothing')!r}"
        for p, v in found.items()
        if p not in flat or differences(flat[p], v)
    ]
    assert wrong == []


def schema_node(path: tuple) -> dict | None:
    """The schema of the config key at ``path`` (following ``$ref``), or None if the schema has no such key."""
    node = SCHEMA
    for key in path:
        if "$ref" in node:
            node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[1]]
        properties = node.get("properties")
        if properties is None or key not in properties:
            return None
        node = properties[key]
    return node


def test_schema_knows_every_default_key():
    missing = [".".join(p) for p in leaves(DEFAULTS) if p[0] not in PROSE_DOCUMENTED and schema_node(p) is None]
    assert missing == []


def test_statistic_enum_is_the_registry():
    assert SCHEMA["definitions"]["statistics"]["items"]["enum"] == list(STATISTIC_NAMES)
    for stage in ("prior_predictive", "ppc"):
        assert schema_node(("thresholds", stage, "statistics")) == {"$ref": "#/definitions/statistics"}


def readme_rows(text: str) -> dict[str, str]:
    """Config key -> the default cell of its row in config/README.md's tables.

    A row's key is complete (``sbc.simulations``) or relative to the config path in backticks in the
    heading above it (``alpha_fail`` under "### `thresholds.sbc`"). A row may name several keys, with as
    many defaults: ``| `columns.group`, `columns.n` | `group`, `n` |``.
    """
    rows, prefix = {}, ""
    for line in text.splitlines():
        if line.startswith("#"):
            paths = re.findall(r"`([a-z_.]+)`", line)
            prefix = paths[0] if paths else ""
        elif line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            keys = re.findall(r"`([^`]+)`", cells[0])
            values = re.findall(r"`([^`]+)`", cells[1]) or [cells[1]]
            for key, value in zip(keys, values if len(values) == len(keys) else [cells[1]] * len(keys)):
                top = key.split(".")[0] in DEFAULTS
                rows[key if top or not prefix else f"{prefix}.{key}"] = value
    return rows


def test_readme_rows_resolve_relative_keys():
    text = (
        "### `thresholds.sbc`: x\n| key | default |\n|---|---|\n| `alpha_fail` | `0.01` | m |\n"
        "## Data\n| `columns.group`, `columns.n` | `group`, `n` | m |\n"
    )
    assert readme_rows(text) == {"thresholds.sbc.alpha_fail": "0.01", "columns.group": "group", "columns.n": "n"}


def test_readme_tables_give_every_default():
    rows = readme_rows(README)
    problems = []
    for path, value in leaves(DEFAULTS).items():
        if path[0] in PROSE_DOCUMENTED:
            continue
        key = ".".join(path)
        if key not in rows:
            problems.append(f"{key}: no row in config/README.md")
        elif value == JUDGED:
            if rows[key] != "judged":
                problems.append(f"{key}: README says {rows[key]!r}, default is the judged statistics")
        elif differences(value, yaml.safe_load(rows[key])):
            problems.append(f"{key}: README says {rows[key]!r}, default is {value!r}")
    assert problems == []


def test_readme_names_every_statistic():
    listed = re.search(r"Statistic names \(`binoval.predictive.statistics`\): (.*?)\.\n\n", README, re.S).group(1)
    assert re.findall(r"`([a-z_0-9]+)`", listed) == list(STATISTIC_NAMES)


@pytest.mark.parametrize("text", [README, CONFIG_TEXT], ids=["config/README.md", "config/config.yaml"])
def test_sbc_sampler_defaults_are_quoted_right(text):
    quoted = ", ".join(f"{k}: {v}" for k, v in SBC_SAMPLER.items())
    assert quoted in text


def test_no_module_keeps_its_own_default_table():
    """Defaults tables (``DEFAULT_* = {...}``) live only in binoval.defaults."""
    src = Path(defaults.__file__).parent
    pattern = re.compile(r"^DEFAULT\w* *(:[^=]*)?= *[{\[(]", re.M)
    modules = [p for p in src.rglob("*.py") if p.name != "defaults.py"]
    owners = [str(p.relative_to(src)) for p in modules if pattern.search(p.read_text())]
    assert owners == []


def test_modules_use_the_defaults():
    from binoval.fit.sampler import SamplerSettings
    from binoval.loo.waic import WAIC_VARIANCE_MAX
    from binoval.predictive.check import DEFAULT_PPC_THRESHOLDS, DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS
    from binoval.sbc.shard import sbc_sampler_settings

    assert SamplerSettings() == SamplerSettings.from_config() == SamplerSettings(**DEFAULTS["sampler"])
    sbc = sbc_sampler_settings(DEFAULTS["sampler"], DEFAULTS["sbc"]["sampler"])
    assert (sbc.chains, sbc.draws, sbc.tune) == tuple(SBC_SAMPLER.values())
    assert sbc.target_accept == DEFAULTS["sampler"]["target_accept"]
    assert WAIC_VARIANCE_MAX == DEFAULTS["thresholds"]["loo"]["waic_variance_max"]
    resolved = resolved_defaults()["thresholds"]
    assert DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS == resolved["prior_predictive"]
    assert DEFAULT_PPC_THRESHOLDS == resolved["ppc"]


def test_defaults_module_is_import_light():
    import subprocess
    import sys

    heavy = "('numpy', 'pymc', 'pandas')"
    code = f"import sys, binoval.defaults; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
