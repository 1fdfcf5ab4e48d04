"""Primary suppression, threshold classes, rule versions, rounding and percentages."""

from __future__ import annotations

import json

import pytest

from zichtbaar.disclosure import (
    RULES_VERSION,
    DisclosureClass,
    DisclosureRules,
    InputError,
    ProtectedTable,
    is_sensitive,
    percentage,
    protect_table,
    round_table,
    round_to_base,
    suppress_primary,
)

TABLE = [[3, 10, 12], [20, 30, 40], [15, 25, 35]]


def test_counts_one_to_four_are_primary_and_zero_is_not() -> None:
    assert [is_sensitive(v, 5) for v in range(7)] == [False, True, True, True, True, False,
                                                      False]


def test_primary_cells_are_shown_as_marker_and_zeros_as_zero() -> None:
    t = suppress_primary([[0, 4, 5], [1, 20, 30]])
    assert t.cells == ((0, "<5", 5), ("<5", 20, 30))
    assert t.row_totals == (9, 51)
    assert t.col_totals == ("<5", 24, 35)
    assert t.grand_total == 60


def test_a_total_below_the_threshold_is_primary_too() -> None:
    t = suppress_primary([[1, 2], [0, 0], [30, 40]], threshold=5)
    assert t.row_totals == ("<5", 0, 70)


@pytest.mark.parametrize(("cls", "threshold", "marker"), [
    ("national", 5, "<5"), ("subnational", 10, "<10"), ("minors", 10, "<10"),
    ("multidimensional", 10, "<10")])
def test_each_disclosure_class_has_its_threshold(cls: str, threshold: int, marker: str) -> None:
    t = suppress_primary([[7, 40], [30, 50]], disclosure_class=cls)
    assert t.threshold == threshold
    assert t.cells[0][0] == (marker if threshold > 7 else 7)
    assert t.disclosure_class == cls


def test_threshold_is_configurable_per_class_and_the_version_says_so() -> None:
    rules = DisclosureRules(classes={
        "national": DisclosureClass("national", 3), "region": DisclosureClass("region", 7)})
    assert protect_table(TABLE, rules=rules).threshold == 3
    assert protect_table(TABLE, rules=rules, disclosure_class="region").threshold == 7
    own = protect_table(TABLE, threshold=4)
    assert own.threshold == 4
    assert own.rule_version == f"{RULES_VERSION}+national.T4"
    assert protect_table(TABLE, threshold=5).rule_version == RULES_VERSION


def test_rule_version_is_carried_on_every_result() -> None:
    for t in (protect_table(TABLE), suppress_primary(TABLE), round_table(TABLE)):
        assert t.rule_version == RULES_VERSION
        assert t.to_dict()["rule_version"] == RULES_VERSION


def test_unknown_class_is_an_error_not_a_laxer_default() -> None:
    with pytest.raises(InputError) as err:
        protect_table(TABLE, disclosure_class="gemeente")
    assert err.value.code == "unknown_class"


@pytest.mark.parametrize(("counts", "code", "row", "column"), [
    ([[1, -2]], "bad_count", 1, "2"),
    ([[1, 2], [3, 2.5]], "bad_count", 2, "2"),
    ([[True, 2]], "bad_count", 1, "1"),
    ([[1, "a"]], "bad_count", 1, "2"),
    ([[1, 2], [3]], "ragged_table", None, None),
    ([[]], "empty_table", None, None),
    ([1, 2, 3], "not_two_way", None, None),
])
def test_bad_counts_are_typed_errors_with_row_and_column(
        counts: object, code: str, row: int | None, column: str | None) -> None:
    with pytest.raises(InputError) as err:
        protect_table(counts)
    assert (err.value.code, err.value.row, err.value.column) == (code, row, column)


def test_labels_must_match_and_be_unique() -> None:
    with pytest.raises(InputError, match="labels") as err:
        protect_table(TABLE, row_labels=["a", "b"])
    assert err.value.code == "label_count"
    with pytest.raises(InputError) as err:
        protect_table(TABLE, col_labels=["a", "a", "b"])
    assert err.value.code == "duplicate_label"


@pytest.mark.parametrize("bad", [1, 0, -3, True])
def test_threshold_below_two_is_refused(bad: int) -> None:
    with pytest.raises(InputError) as err:
        DisclosureClass("x", bad)
    assert err.value.code == "bad_threshold"


def test_rules_round_trip_as_data() -> None:
    rules = DisclosureRules()
    again = DisclosureRules.from_dict(json.loads(json.dumps(rules.to_dict())))
    assert again == rules
    with pytest.raises(InputError):
        DisclosureRules.from_dict({"classes": []})


def test_rounding_to_base_five() -> None:
    assert [round_to_base(v) for v in range(13)] == [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10]
    assert round_to_base(5, base=10) == 10
    assert round_to_base(29_115) == 29_115 and round_to_base(9_064) == 9_065


def test_totals_are_rounded_independently_not_summed() -> None:
    t = round_table([[1, 2, 3], [4, 7, 8]])
    assert t.cells == ((0, 0, 5), (5, 5, 10))
    assert t.row_totals == (5, 20)          # 6 -> 5 and 19 -> 20, not 0+0+5 and 5+5+10
    assert t.col_totals == (5, 10, 10)
    assert t.grand_total == 25
    assert "rounded" in t.flags and t.safe is None
    with pytest.raises(InputError):
        t.percentages()


def test_percentage_needs_a_denominator_of_twenty_and_unsuppressed_cells() -> None:
    assert percentage(5, 20) == 25.0
    assert percentage(5, 19) is None
    assert percentage(None, 40) is None and percentage(5, None) is None
    assert percentage(9, 31, min_denominator=30, decimals=1) == 29.0


def test_percentages_of_a_protected_table_hide_suppressed_cells() -> None:
    t = protect_table(TABLE, row_labels="abc", col_labels="xyz")
    rows = t.percentages("row")
    for i, line in enumerate(t.grid):
        for j, cell in enumerate(line):
            if isinstance(cell, str) or isinstance(line[-1], str) or line[-1] < 20:
                assert rows[i][j] is None
            else:
                assert rows[i][j] == round(100 * cell / line[-1])
    assert t.percentages("total")[-1][-1] == 100.0


def test_protected_table_holds_only_what_may_be_published() -> None:
    t = protect_table(TABLE, row_labels=["a", "b", "c"], col_labels=["x", "y", "z"],
                      row_header="regio")
    assert isinstance(t, ProtectedTable)
    assert t.cells[0][0] == "<5"
    data = t.to_dict()
    json.dumps(data)
    assert data["cells"][0][0] == "<5"
    assert all(isinstance(c, int) or c in ("<5", "x") for line in t.grid for c in line)
    rows = t.to_rows()
    assert rows[0] == ["regio", "x", "y", "z", "Totaal"]
    assert rows[-1][0] == "Totaal"
    assert rows[1] == ["a", *(str(c) for c in t.grid[0])]
