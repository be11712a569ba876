"""`# noqa`, `# noqa: CODES` and `# asynccheck: ignore[CODES]`, on the flagged line or on
the first line of its statement."""

from __future__ import annotations

import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.suppress import suppressed_codes

HEAD = "import time\nfrom pathlib import Path\n\n\nasync def f():\n"


def codes(body: str) -> list[str]:
    return [finding.code for finding in lint_source(HEAD + body)]


def test_unsuppressed_baseline():
    assert codes("    time.sleep(1)\n") == ["AC101"]


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa",
        "#noqa",
        "# NOQA",
        "# noqa: AC101",
        "# noqa:AC101",
        "# noqa: AC101,AC104",
        "# noqa: AC104, AC101",
        "# noqa: AC104 AC101",
        "# asynccheck: ignore[AC101]",
        "# asynccheck: ignore[AC104, AC101]",
        "# asynccheck: ignore",
        "# explained elsewhere  # noqa: AC101",
    ],
)
def test_comment_suppresses(comment):
    assert codes(f"    time.sleep(1)  {comment}\n") == []


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: AC104",
        "# noqa:AC102,AC104",
        "# asynccheck: ignore[AC104]",
        "# no qa",
        "# noqa AC101 is fine here",  # no colon: the words are not codes...
    ],
)
def test_comment_for_another_code_does_not_suppress(comment):
    found = codes(f"    time.sleep(1)  {comment}\n")
    if comment == "# noqa AC101 is fine here":
        assert found == []  # ...so, as in flake8, it is a bare noqa
    else:
        assert found == ["AC101"]


def test_suppression_is_per_code_on_a_line_with_two_findings():
    body = "    time.sleep(1); open('x').read()  # noqa: AC104\n"
    assert codes(body) == ["AC101"]
    body = "    time.sleep(1); open('x').read()  # noqa: AC101, AC104\n"
    assert codes(body) == []


def test_noqa_in_a_string_is_not_a_comment():
    # The text of a noqa comment inside a string on the flagged line must not suppress.
    assert codes("    time.sleep(len('# noqa'))\n") == ["AC101"]


def test_multi_line_statement_first_line_counts():
    body = "    time.sleep(  # noqa: AC101\n        1,\n    )\n"
    assert codes(body) == []


def test_finding_on_a_later_line_of_a_statement_with_noqa_on_its_first_line():
    body = "    result = max(  # noqa: AC101\n        1,\n        time.sleep(1),\n    )\n"
    assert codes(body) == []
    body = "    result = max(  # asynccheck: ignore[AC101]\n        1,\n        time.sleep(1),\n    )\n"
    assert codes(body) == []


def test_finding_on_a_later_line_with_its_own_noqa():
    body = "    result = max(\n        1,\n        time.sleep(1),  # noqa: AC101\n    )\n"
    assert codes(body) == []


def test_noqa_on_a_later_line_of_the_statement_for_another_code():
    body = "    result = max(  # noqa: AC104\n        time.sleep(1),\n    )\n"
    assert codes(body) == ["AC101"]


def test_noqa_on_the_line_of_the_enclosing_async_def_does_not_count():
    assert lint_source(HEAD.replace("f():", "f():  # noqa") + "    time.sleep(1)\n") != []


def test_noqa_on_a_compound_statement_header_does_not_cover_its_body():
    body = "    if True:  # noqa\n        time.sleep(1)\n"
    assert codes(body) == ["AC101"]


def test_suppressed_codes_parser():
    assert suppressed_codes("x = 1") is None
    assert suppressed_codes("x = 1  # a comment") is None
    assert suppressed_codes("x  # noqa: ac101") == frozenset({"AC101"})
    assert suppressed_codes("x  # asynccheck: ignore[AC1, AC2]") == frozenset({"AC1", "AC2"})


def test_suppression_through_the_cli(tree, cli):
    tree({"a.py": HEAD + "    time.sleep(1)  # noqa:AC101\n", "b.py": HEAD + "    time.sleep(1)\n"})
    result = cli("lint", "--format", "concise", "a.py", "b.py")
    assert result.exit_code == 1
    assert "b.py:6:5: AC101" in result.stdout
    assert "a.py" not in result.stdout
