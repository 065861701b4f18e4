import numpy as np
import pytest

from binoval.models.formula import FormulaError, VaryingTerm, build_design, check_columns, parse_formula


def test_fixed_and_correlated_varying_terms():
    f = parse_formula("r | trials(n) ~ sex + (1 + sex | edu)")
    assert f.intercept and f.fixed == ("sex",)
    assert f.varying == (VaryingTerm("edu", True, ("sex",), True),)
    assert f.columns == {"sex", "edu"}


def test_crossed_intercepts_without_lhs_and_no_fixed_intercept():
    f = parse_formula("~ 0 + x + (1 | actor) + (1 | block)")
    assert not f.intercept and f.fixed == ("x",)
    assert [v.factor for v in f.varying] == ["actor", "block"]
    assert not any(v.correlated for v in f.varying)


def test_uncorrelated_double_bar():
    (term,) = parse_formula("r ~ (1 + x || g)").varying
    assert term.slopes == ("x",) and not term.correlated


@pytest.mark.parametrize(
    "text, message",
    [
        ("r | trials(n) sex", "expected 'r | trials(n) ~ <terms>'"),
        ("y ~ sex", "left side must be 'r | trials(n)'"),
        ("r ~ sex:edu", "interactions"),
        ("r ~ sex + ", "empty term"),
        ("r ~ (1 + sex | edu", "unbalanced parentheses"),
        ("r ~ (1 | edu) + (sex | edu)", "two varying terms"),
        ("r ~ (0 | edu)", "has no effects"),
        ("r ~ (1 | 3x)", "is not a column name"),
        ("r ~ sex + sex", "appears twice"),
        ("r ~", "nothing right of '~'"),
    ],
)
def test_bad_formulas(text, message):
    with pytest.raises(FormulaError, match=None) as err:
        parse_formula(text)
    assert message in str(err.value)


def test_design_treatment_coding_and_levels():
    covariates = {
        "sex": np.array(["m", "f", "m", "f"]),
        "edu": np.array(["b", "b", "a", "a"]),
        "age": np.array([1.0, 2.0, 3.0, 4.0]),
    }
    design = build_design(parse_formula("r ~ sex + age + (1 + sex | edu)"), covariates, ("g1", "g2", "g3", "g4"))
    assert design.fixed_names == ["sex[m]", "age"]
    np.testing.assert_array_equal(design.fixed, [[1, 1], [0, 2], [1, 3], [0, 4]])
    (block,) = design.varying
    assert block.levels == ["a", "b"] and list(block.index) == [1, 1, 0, 0]
    assert block.names == ["Intercept", "sex[m]"]
    np.testing.assert_array_equal(block.matrix, [[1, 1], [1, 0], [1, 1], [1, 0]])


def test_group_column_is_a_valid_factor_and_missing_columns_are_named():
    design = build_design(parse_formula("r ~ (1 | group)"), {}, ("a", "b", "c"))
    assert design.varying[0].levels == ["a", "b", "c"]
    with pytest.raises(FormulaError, match="column 'edu' is not in the data"):
        check_columns(parse_formula("r ~ (1 | edu)"), {"group", "sex"})


def test_single_level_categorical_is_rejected():
    with pytest.raises(FormulaError, match="single level"):
        build_design(parse_formula("r ~ sex"), {"sex": np.array(["f", "f"])}, ("a", "b"))
