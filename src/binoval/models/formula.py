"""A small formula language for binomial GLMMs, in the style of brms/lme4.

    r | trials(n) ~ 1 + sex + age + (1 + sex | edu) + (1 | block)

Left of ``~``: ``r | trials(n)`` (or nothing); binoval's data always has ``r``
and ``n``. Right: ``1`` or ``0`` for the intercept (default: included), column
names for fixed effects, and ``(terms | factor)`` for varying effects by a
grouping column: ``(1 | g)`` varying intercepts, ``(1 + x | g)`` intercepts and
slopes with correlations (LKJ prior), ``(1 + x || g)`` the same without
correlations. String columns are categorical (treatment coding against their
first level in sorted order); numeric columns enter as they are.
Interactions are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_LHS = re.compile(r"^r\s*\|\s*trials\(\s*n\s*\)$|^r$|^$")


class FormulaError(ValueError):
    """A formula that cannot be parsed or does not fit the data."""


@dataclass(frozen=True)
class VaryingTerm:
    """Varying effects by ``factor``: an intercept and/or ``slopes``, correlated or not."""

    factor: str
    intercept: bool
    slopes: tuple[str, ...]
    correlated: bool


@dataclass(frozen=True)
class Formula:
    intercept: bool
    fixed: tuple[str, ...]
    varying: tuple[VaryingTerm, ...]

    @property
    def columns(self) -> set[str]:
        """Every data column the formula refers to."""
        cols = set(self.fixed)
        for term in self.varying:
            cols |= {term.factor, *term.slopes}
        return cols


def _split_top_level(text: str, sep: str = "+") -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if depth < 0:
            raise FormulaError("unbalanced parentheses")
        if char == sep and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if depth:
        raise FormulaError("unbalanced parentheses")
    parts.append(current.strip())
    return parts


def _intercept_and_names(terms: list[str], where: str) -> tuple[bool | None, list[str]]:
    intercept, names = None, []
    for term in terms:
        if term in ("1", "0", "-1"):
            intercept = term == "1"
        elif _NAME.match(term):
            if term in names:
                raise FormulaError(f"{term!r} appears twice {where}")
            names.append(term)
        elif any(op in term for op in ":*/^"):
            raise FormulaError(f"interactions such as {term!r} are not supported")
        else:
            raise FormulaError(f"cannot read term {term!r} {where}")
    return intercept, names


def parse_formula(text: str) -> Formula:
    """Parse a formula string; raises ``FormulaError`` saying what is wrong."""
    if not isinstance(text, str) or "~" not in text:
        raise FormulaError(f"expected 'r | trials(n) ~ <terms>', got {text!r}")
    lhs, rhs = text.split("~", 1)
    if not _LHS.match(lhs.strip()):
        raise FormulaError(f"the left side must be 'r | trials(n)', got {lhs.strip()!r}")
    if not rhs.strip():
        raise FormulaError("nothing right of '~'")
    fixed_terms, varying = [], []
    for term in _split_top_level(rhs):
        if not term:
            raise FormulaError("empty term (a stray '+')")
        if term.startswith("("):
            if not term.endswith(")"):
                raise FormulaError(f"cannot read term {term!r}")
            inner = term[1:-1]
            correlated = "||" not in inner
            pieces = inner.split("||") if not correlated else inner.split("|")
            if len(pieces) != 2:
                raise FormulaError(f"a varying term needs '(terms | factor)', got {term!r}")
            effects, factor = pieces[0].strip(), pieces[1].strip()
            if not _NAME.match(factor):
                raise FormulaError(f"grouping factor {factor!r} in {term!r} is not a column name")
            intercept, slopes = _intercept_and_names(_split_top_level(effects), f"in {term!r}")
            intercept = True if intercept is None else intercept
            if not intercept and not slopes:
                raise FormulaError(f"{term!r} has no effects")
            if any(v.factor == factor for v in varying):
                raise FormulaError(f"factor {factor!r} has two varying terms; put them in one")
            varying.append(VaryingTerm(factor, intercept, tuple(slopes), correlated and (intercept + len(slopes)) > 1))
        else:
            fixed_terms.append(term)
    intercept, fixed = _intercept_and_names(fixed_terms, "in the fixed effects") if fixed_terms else (None, [])
    return Formula(intercept=True if intercept is None else intercept, fixed=tuple(fixed), varying=tuple(varying))


def check_columns(formula: Formula, available: set[str]) -> None:
    """Raise ``FormulaError`` naming the first column the data lacks."""
    missing = sorted(formula.columns - available)
    if missing:
        raise FormulaError(f"column {missing[0]!r} is not in the data (it has {', '.join(sorted(available))})")


def _is_numeric(values: np.ndarray) -> bool:
    return np.asarray(values).dtype.kind in "biuf"


def _columns_for(name: str, values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Design columns of one covariate: itself if numeric, treatment dummies if categorical."""
    if _is_numeric(values):
        return [name], np.asarray(values, dtype=float)[:, None]
    labels = np.asarray(values).astype(str)
    levels = sorted(set(labels))
    if len(levels) < 2:
        raise FormulaError(f"categorical column {name!r} has a single level {levels[0]!r}; it carries no contrast")
    indicators = np.stack([labels == level for level in levels[1:]], axis=1).astype(float)
    return [f"{name}[{level}]" for level in levels[1:]], indicators


@dataclass(frozen=True)
class VaryingDesign:
    term: VaryingTerm
    levels: list[str]
    index: np.ndarray  # level index of each row
    names: list[str]  # effect names (Intercept, slope columns)
    matrix: np.ndarray  # rows x effects


@dataclass(frozen=True)
class Design:
    """Numeric design of a formula on data: fixed-effect matrix and one block per varying term."""

    intercept: bool
    fixed_names: list[str]
    fixed: np.ndarray
    varying: list[VaryingDesign]


def build_design(formula: Formula, covariates: Mapping[str, np.ndarray], groups: tuple[str, ...]) -> Design:
    """Turn a parsed formula into matrices for the rows of the data."""
    data = dict(covariates)
    data.setdefault("group", np.asarray(groups))
    check_columns(formula, set(data))
    rows = len(groups)
    names, blocks = [], []
    for name in formula.fixed:
        cols, block = _columns_for(name, data[name])
        names += cols
        blocks.append(block)
    fixed = np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0))
    varying = []
    for term in formula.varying:
        labels = np.asarray(data[term.factor]).astype(str)
        levels = sorted(set(labels))
        index = np.array([levels.index(label) for label in labels])
        effect_names, effect_blocks = [], []
        if term.intercept:
            effect_names.append("Intercept")
            effect_blocks.append(np.ones((rows, 1)))
        for slope in term.slopes:
            cols, block = _columns_for(slope, data[slope])
            effect_names += cols
            effect_blocks.append(block)
        varying.append(VaryingDesign(term, levels, index, effect_names, np.concatenate(effect_blocks, axis=1)))
    return Design(formula.intercept, names, fixed, varying)
