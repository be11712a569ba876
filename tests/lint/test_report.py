"""The lint output formats, pinned like snapshots: findings are built by hand, so these tests
depend on nothing but `asynccheck.lint.finding` and `asynccheck.lint.report`."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from asynccheck.lint.finding import SAFE, UNSAFE, Edit, Finding, Fix, Position
from asynccheck.lint.report import FORMATS, LintReport, RuleInfo, renderer
from asynccheck.lint.report import concise as concise_format
from asynccheck.lint.report import github as github_format
from asynccheck.lint.report import json as json_format
from asynccheck.lint.report import sarif as sarif_format
from asynccheck.lint.report import text as text_format

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"

P = Position

# A safe fix (two edits: the call and the import it needs).
SAFE_F = Finding(
    "AC101",
    "time.sleep() blocks the event loop; use await asyncio.sleep()",
    "app/handlers.py",
    P(14, 9),
    P(14, 33),
    Fix(
        SAFE,
        "Replace with `await asyncio.sleep(...)`",
        (
            Edit(0, 0, "import asyncio\n", P(1, 1), P(1, 1)),
            Edit(300, 324, "await asyncio.sleep(self.backoff)", P(14, 9), P(14, 33)),
        ),
    ),
    "        time.sleep(self.backoff)\n",
)
# An unsafe fix: no `[*]` until --unsafe-fixes, counted as hidden meanwhile.
UNSAFE_F = Finding(
    "AC102",
    "requests.get() blocks the event loop; use await asyncio.to_thread()",
    "app/handlers.py",
    P(20, 16),
    P(20, 38),
    Fix(
        UNSAFE,
        "Wrap in `await asyncio.to_thread(...)`",
        (Edit(500, 522, "await asyncio.to_thread(requests.get, self.url)", P(20, 16), P(20, 38)),),
    ),
    "        body = requests.get(self.url).text\n",
)
# A span that ends three rows later: underlined to the end of its first row.
MULTI_F = Finding(
    "AC103",
    "subprocess.run() blocks the event loop; use await asyncio.create_subprocess_exec()",
    "app/jobs.py",
    P(3, 11),
    P(6, 6),
    None,
    "    out = subprocess.run(\n",
)
# Tab indentation: column 9 is the 9th character but the 12th cell on screen.
TAB_F = Finding(
    "AC104",
    "open() blocks the event loop; use await asyncio.to_thread()",
    "app/tabbed.py",
    P(2, 9),
    P(2, 19),
    None,
    "\tdata = open(path).read()\n",
)
# Wide characters before and inside the span, an emoji outside the BMP, a CRLF line end and
# a path with non-ASCII letters and a space.
UNI_F = Finding(
    "AC105",
    "socket.gethostbyname() blocks the event loop; use await loop.getaddrinfo()",
    "app/ünï code.py",
    P(7, 10),
    P(7, 39),
    None,
    '    名前 = socket.gethostbyname("例え.jp")  # 🙂\r\n',
)
FINDINGS = (SAFE_F, UNSAFE_F, MULTI_F, TAB_F, UNI_F)

RULES = {
    code: RuleInfo(
        code,
        name,
        summary,
        f"https://asynccheck.readthedocs.io/en/latest/rules/{code}/",
        default=code != "AC106",
    )
    for code, name, summary in (
        ("AC105", "blocking-socket", "Blocking socket call inside async def"),
        ("AC101", "blocking-sleep", "time.sleep() inside async def"),
        ("AC103", "blocking-subprocess", "Blocking subprocess call inside async def"),
        ("AC102", "blocking-http", "Blocking HTTP call inside async def"),
        ("AC104", "blocking-file-io", "Blocking file I/O inside async def"),
        ("AC106", "blocking-database", "Blocking database call inside async def"),
    )
}


def make_report(*findings: Finding, **options: Any) -> LintReport:
    options.setdefault("rules", RULES)
    options.setdefault("tool_version", "0.1.0")
    return LintReport(findings=tuple(findings), files_checked=4, **options)


REPORT = make_report(*FINDINGS)
EMPTY = make_report()
ANSI = re.compile(r"\x1b\[[0-9;]*m")

TEXT_EXPECTED = """\
app/handlers.py:14:9: AC101 [*] time.sleep() blocks the event loop; use await asyncio.sleep()
   |
14 |         time.sleep(self.backoff)
   |         ^^^^^^^^^^^^^^^^^^^^^^^^ AC101
   |
   = help: Replace with `await asyncio.sleep(...)`

app/handlers.py:20:16: AC102 requests.get() blocks the event loop; use await asyncio.to_thread()
   |
20 |         body = requests.get(self.url).text
   |                ^^^^^^^^^^^^^^^^^^^^^^ AC102
   |
   = help: Wrap in `await asyncio.to_thread(...)`

app/jobs.py:3:11: AC103 subprocess.run() blocks the event loop; use await asyncio.create_subprocess_exec()
  |
3 |     out = subprocess.run(
  |           ^^^^^^^^^^^^^^^ AC103
  |

app/tabbed.py:2:9: AC104 open() blocks the event loop; use await asyncio.to_thread()
  |
2 |     data = open(path).read()
  |            ^^^^^^^^^^ AC104
  |

app/ünï code.py:7:10: AC105 socket.gethostbyname() blocks the event loop; use await loop.getaddrinfo()
  |
7 |     名前 = socket.gethostbyname("例え.jp")  # 🙂
  |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ AC105
  |

Found 5 findings.
[*] 1 fixable with `asynccheck lint --fix` (1 hidden fix can be enabled with the `--unsafe-fixes` option).
"""

CONCISE_EXPECTED = """\
app/handlers.py:14:9: AC101 [*] time.sleep() blocks the event loop; use await asyncio.sleep()
app/handlers.py:20:16: AC102 requests.get() blocks the event loop; use await asyncio.to_thread()
app/jobs.py:3:11: AC103 subprocess.run() blocks the event loop; use await asyncio.create_subprocess_exec()
app/tabbed.py:2:9: AC104 open() blocks the event loop; use await asyncio.to_thread()
app/ünï code.py:7:10: AC105 socket.gethostbyname() blocks the event loop; use await loop.getaddrinfo()
Found 5 findings.
[*] 1 fixable with `asynccheck lint --fix` (1 hidden fix can be enabled with the `--unsafe-fixes` option).
"""


def caret_line(output: str, code: str) -> str:
    return next(line for line in output.splitlines() if line.endswith(f"^ {code}"))


def cells(text: str) -> int:
    """Terminal width of `text`, counted independently of the renderer."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --- text -------------------------------------------------------------------------------------


def test_text_snapshot() -> None:
    assert text_format.render(REPORT) == TEXT_EXPECTED


def test_text_sorts_findings_whatever_order_they_arrive_in() -> None:
    shuffled = make_report(UNI_F, MULTI_F, SAFE_F, TAB_F, UNSAFE_F)
    assert text_format.render(shuffled) == TEXT_EXPECTED


def test_text_tab_expands_consistently_in_line_and_carets() -> None:
    out = text_format.render(make_report(TAB_F))
    shown = "2 |     data = open(path).read()"
    assert shown in out.splitlines()
    # The tab becomes 4 spaces in the line, so `open` starts at cell 4 + 7 after the gutter.
    carets = caret_line(out, "AC104")
    assert carets == "  |            ^^^^^^^^^^ AC104"
    assert carets.index("^") == shown.index("open(path)")


def test_text_tab_inside_the_span_widens_the_carets() -> None:
    finding = dataclasses.replace(
        TAB_F, location=P(2, 1), end_location=P(2, 6), source_line="\tdata"
    )
    # `\tdata` is shown as 4 spaces + 4 letters, all inside the span: 8 carets.
    assert caret_line(text_format.render(make_report(finding)), "AC104") == "  | ^^^^^^^^ AC104"


def test_text_tab_stops_depend_on_the_column_the_tab_starts_in() -> None:
    finding = dataclasses.replace(
        TAB_F, location=P(2, 4), end_location=P(2, 5), source_line="ab\tcd"
    )
    out = text_format.render(make_report(finding))
    # `ab` then a tab to the next stop (cell 4): `c` is at cell 4, not 2 + 4.
    assert "2 | ab  cd" in out.splitlines()
    assert caret_line(out, "AC104") == "  |     ^ AC104"


def test_text_wide_characters_keep_carets_under_the_span() -> None:
    out = text_format.render(make_report(UNI_F))
    line = next(row for row in out.splitlines() if row.startswith("7 | "))
    carets = caret_line(out, "AC105")
    span = 'socket.gethostbyname("例え.jp")'
    before = line[: line.index(span)]
    assert cells(carets[: carets.index("^")]) == cells(before)
    assert carets.count("^") == cells(span) == 31
    assert not line.endswith("\r")


def test_text_multi_row_span_is_underlined_to_the_end_of_its_first_row() -> None:
    carets = caret_line(text_format.render(make_report(MULTI_F)), "AC103")
    assert carets == "  |           " + "^" * len("subprocess.run(") + " AC103"


def test_text_empty_span_still_gets_one_caret() -> None:
    at_end = dataclasses.replace(MULTI_F, location=P(3, 40), end_location=P(3, 40))
    empty = dataclasses.replace(MULTI_F, end_location=MULTI_F.location)
    assert caret_line(text_format.render(make_report(at_end)), "AC103") == (
        "  | " + " " * len("    out = subprocess.run(") + "^ AC103"
    )
    assert caret_line(text_format.render(make_report(empty)), "AC103") == ("  |           ^ AC103")


def test_text_control_characters_cannot_reach_the_terminal() -> None:
    finding = dataclasses.replace(
        TAB_F, location=P(2, 6), end_location=P(2, 10), source_line="x = '\x1b[2J' or y\n"
    )
    out = text_format.render(make_report(finding))
    assert "\x1b" not in out
    assert "2 | x = '\u241b[2J' or y" in out.splitlines()
    assert caret_line(out, "AC104") == "  |      ^^^^ AC104"


def test_text_finding_without_a_line_has_no_frame() -> None:
    unreadable = Finding("AC002", "cannot decode as UTF-8", "bin.py", P(1, 1), P(1, 1))
    assert text_format.render(make_report(unreadable)) == (
        "bin.py:1:1: AC002 cannot decode as UTF-8\n\nFound 1 finding.\n"
    )


def test_text_message_with_line_breaks_stays_on_one_line() -> None:
    broken = Finding("AC001", "invalid syntax\nexpected ':'", "a.py", P(2, 7), P(2, 8))
    assert text_format.render(make_report(broken)).splitlines()[0] == (
        "a.py:2:7: AC001 invalid syntax expected ':'"
    )


def test_text_empty_report() -> None:
    assert text_format.render(EMPTY) == "All checks passed!\n"


def test_text_single_finding_is_singular_and_unfixable_has_no_hint() -> None:
    assert text_format.render(make_report(MULTI_F)).endswith("\n\nFound 1 finding.\n")


def test_text_unsafe_fixes_enabled_marks_and_counts_unsafe_fixes() -> None:
    out = text_format.render(make_report(*FINDINGS, unsafe_fixes_enabled=True))
    assert "app/handlers.py:20:16: AC102 [*] requests.get() blocks" in out
    assert out.endswith(
        "Found 5 findings.\n[*] 2 fixable with `asynccheck lint --fix --unsafe-fixes`.\n"
    )
    assert "hidden" not in out


def test_text_only_unsafe_fixes_says_none_available() -> None:
    out = text_format.render(make_report(UNSAFE_F, MULTI_F))
    assert "[*]" not in out
    assert out.endswith(
        "Found 2 findings.\n"
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n"
    )
    two_hidden = dataclasses.replace(UNSAFE_F, location=P(21, 16), end_location=P(21, 38))
    assert text_format.render(make_report(UNSAFE_F, two_hidden)).endswith(
        "No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option).\n"
    )


def test_text_only_safe_fixes() -> None:
    assert text_format.render(make_report(SAFE_F, TAB_F)).endswith(
        "Found 2 findings.\n[*] 1 fixable with `asynccheck lint --fix`.\n"
    )


@pytest.mark.parametrize(
    ("findings", "fixed", "expected"),
    [
        ((MULTI_F,), 2, "Found 3 findings (2 fixed, 1 remaining).\n"),
        ((), 2, "Found 2 findings (2 fixed, 0 remaining).\n"),
        ((), 1, "Found 1 finding (1 fixed, 0 remaining).\n"),
        ((UNSAFE_F,), 1, "Found 2 findings (1 fixed, 1 remaining).\n"),
    ],
)
def test_text_summary_after_fix(findings: tuple[Finding, ...], fixed: int, expected: str) -> None:
    out = text_format.render(make_report(*findings, fixed=fixed))
    summary = out[out.index("Found") :]
    assert summary.splitlines()[0] + "\n" == expected
    assert "All checks passed!" not in out


def test_text_statistics_table() -> None:
    findings = (
        *FINDINGS,
        dataclasses.replace(TAB_F, location=P(5, 1)),
        dataclasses.replace(TAB_F, location=P(9, 1)),
        dataclasses.replace(SAFE_F, location=P(30, 9)),
    )
    out = text_format.render(make_report(*findings, statistics=True))
    # Count (desc) then code; [*] only when every finding of the code would be fixed.
    assert out == (
        "3\tAC104\t[ ] blocking-file-io\n"
        "2\tAC101\t[*] blocking-sleep\n"
        "1\tAC102\t[ ] blocking-http\n"
        "1\tAC103\t[ ] blocking-subprocess\n"
        "1\tAC105\t[ ] blocking-socket\n"
        "Found 8 findings.\n"
        "[*] 2 fixable with `asynccheck lint --fix` "
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option).\n"
    )


def test_text_statistics_pads_columns_and_drops_marks_when_nothing_is_fixable() -> None:
    many = tuple(dataclasses.replace(MULTI_F, location=P(row, 1)) for row in range(1, 12))
    odd = Finding("AC1234", "made-up code", "z.py", P(1, 1), P(1, 2))
    out = text_format.render(make_report(*many, odd, statistics=True))
    assert out == (
        "11\tAC103 \tblocking-subprocess\n"
        " 1\tAC1234\n"  # unknown to the rule table: no name
        "Found 12 findings.\n"
    )


def test_text_statistics_empty() -> None:
    assert text_format.render(make_report(statistics=True)) == "All checks passed!\n"


def test_text_color_only_when_asked_and_same_text_underneath() -> None:
    plain = text_format.render(REPORT)
    colored = text_format.render(make_report(*FINDINGS, color=True))
    assert "\x1b[" not in plain
    assert ANSI.sub("", colored) == plain
    assert "\x1b[1;31mAC101\x1b[0m [\x1b[36m*\x1b[0m] time.sleep()" in colored
    assert "\x1b[1mapp/handlers.py\x1b[0m\x1b[36m:\x1b[0m14" in colored
    assert "\x1b[1;31m^^^^^^^^^^^^^^^^^^^^^^^^ AC101\x1b[0m" in colored
    stats = make_report(*FINDINGS, color=True, statistics=True)
    assert ANSI.sub("", text_format.render(stats)) == text_format.render(
        make_report(*FINDINGS, statistics=True)
    )


# --- concise ----------------------------------------------------------------------------------


def test_concise_snapshot() -> None:
    assert concise_format.render(REPORT) == CONCISE_EXPECTED


def test_concise_empty_and_color() -> None:
    assert concise_format.render(EMPTY) == "All checks passed!\n"
    colored = concise_format.render(make_report(*FINDINGS, color=True))
    assert colored != CONCISE_EXPECTED
    assert ANSI.sub("", colored) == CONCISE_EXPECTED


def test_concise_statistics_is_the_text_table() -> None:
    report = make_report(*FINDINGS, statistics=True)
    assert concise_format.render(report) == text_format.render(report)
    assert concise_format.render(report).startswith("1\tAC101\t[*] blocking-sleep\n")


# --- json -------------------------------------------------------------------------------------


def test_json_shape() -> None:
    out = json_format.render(REPORT)
    data = json.loads(out)
    assert [item["code"] for item in data] == ["AC101", "AC102", "AC103", "AC104", "AC105"]
    keys = {"code", "message", "filename", "location", "end_location", "fix", "url", "noqa_row"}
    assert all(set(item) == keys for item in data)
    assert data[0] == {
        "code": "AC101",
        "message": "time.sleep() blocks the event loop; use await asyncio.sleep()",
        "filename": "app/handlers.py",
        "location": {"row": 14, "column": 9},
        "end_location": {"row": 14, "column": 33},
        "fix": {
            "applicability": "safe",
            "message": "Replace with `await asyncio.sleep(...)`",
            "edits": [
                {
                    "content": "import asyncio\n",
                    "location": {"row": 1, "column": 1},
                    "end_location": {"row": 1, "column": 1},
                },
                {
                    "content": "await asyncio.sleep(self.backoff)",
                    "location": {"row": 14, "column": 9},
                    "end_location": {"row": 14, "column": 33},
                },
            ],
        },
        "url": "https://asynccheck.readthedocs.io/en/latest/rules/AC101/",
        "noqa_row": 14,
    }
    assert data[1]["fix"]["applicability"] == "unsafe"
    assert data[2]["fix"] is None
    assert (data[2]["location"], data[2]["end_location"]) == (
        {"row": 3, "column": 11},
        {"row": 6, "column": 6},
    )
    assert data[2]["noqa_row"] == 3
    assert data[4]["filename"] == "app/ünï code.py"
    assert data[4]["message"] == UNI_F.message


def test_json_layout_is_ruffs() -> None:
    out = json_format.render(make_report(MULTI_F))
    # Indented by 2, keys sorted as ruff's serializer writes them, one trailing newline.
    assert out == (
        "[\n"
        "  {\n"
        '    "code": "AC103",\n'
        '    "end_location": {\n'
        '      "column": 6,\n'
        '      "row": 6\n'
        "    },\n"
        '    "filename": "app/jobs.py",\n'
        '    "fix": null,\n'
        '    "location": {\n'
        '      "column": 11,\n'
        '      "row": 3\n'
        "    },\n"
        '    "message": "subprocess.run() blocks the event loop; use await '
        'asyncio.create_subprocess_exec()",\n'
        '    "noqa_row": 3,\n'
        '    "url": "https://asynccheck.readthedocs.io/en/latest/rules/AC103/"\n'
        "  }\n"
        "]\n"
    )


def test_json_is_ascii_so_any_console_encoding_works() -> None:
    out = json_format.render(REPORT)
    assert out.isascii()
    assert '"filename": "app/\\u00fcn\\u00ef code.py"' in out
    assert json.loads(out)[4]["filename"] == "app/ünï code.py"


def test_json_unknown_rule_has_null_url() -> None:
    data = json.loads(json_format.render(make_report(SAFE_F, rules={})))
    assert data[0]["url"] is None


def test_json_empty() -> None:
    assert json_format.render(EMPTY) == "[]\n"


# --- sarif ------------------------------------------------------------------------------------

# RFC 3986, enough to catch an unencoded space or a bare non-ASCII letter in a URI.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})"
_URI_REFERENCE = re.compile(rf"^{_URI_CHAR}*$")
_URI = re.compile(rf"^[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}*$")


@pytest.fixture(scope="module")
def sarif_validator() -> Draft7Validator:
    """The official OASIS schema (errata01). It declares draft-04 and an `id` that draft 7
    ignores; its `$ref`s are all local, so it is checked as draft 7 as it stands. `uri`
    formats are checked here because jsonschema checks them only with extra packages."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    Draft7Validator.check_schema(schema)
    checker = FormatChecker()
    checker.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.match(value)))
    checker.checks("uri-reference")(
        lambda value: not isinstance(value, str) or bool(_URI_REFERENCE.match(value))
    )
    return Draft7Validator(schema, format_checker=checker)


def sarif_errors(validator: Draft7Validator, log: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_validates_against_the_official_schema(sarif_validator: Draft7Validator) -> None:
    for report in (REPORT, EMPTY, make_report(*FINDINGS, rules={})):
        assert sarif_errors(sarif_validator, json.loads(sarif_format.render(report))) == []


def test_sarif_validator_catches_mistakes(sarif_validator: Draft7Validator) -> None:
    # The validation above means something only if the schema rejects broken logs.
    log = json.loads(sarif_format.render(REPORT))
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    region["startColumn"] = 0
    log["runs"][0]["results"][1]["level"] = "fatal"
    log["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = (
        "app/a b.py"
    )
    errors = sarif_errors(sarif_validator, log)
    assert len(errors) == 3, errors


def test_sarif_content() -> None:
    log = json.loads(sarif_format.render(REPORT))
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("asynccheck", "0.1.0")
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "unicodeCodePoints"
    assert "%SRCROOT%" in run["originalUriBaseIds"]

    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)  # every rule, by code, used or not
    ac101 = rules[0]
    assert ac101["name"] == "blocking-sleep"
    assert ac101["shortDescription"] == {"text": "time.sleep() inside async def"}
    assert ac101["fullDescription"]["text"]  # required by GitHub, not by SARIF
    assert ac101["help"]["text"]
    assert ac101["helpUri"] == RULES["AC101"].url
    assert ac101["defaultConfiguration"] == {"level": "error"}

    results = run["results"]
    assert [r["ruleId"] for r in results] == ["AC101", "AC102", "AC103", "AC104", "AC105"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
    first = results[0]
    assert first["message"] == {"text": SAFE_F.message}
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/handlers.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 14, "startColumn": 9, "endLine": 14, "endColumn": 33},
            }
        }
    ]
    assert first["fixes"] == [
        {
            "description": {"text": "Replace with `await asyncio.sleep(...)`"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "app/handlers.py", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": 1,
                                "startColumn": 1,
                                "endLine": 1,
                                "endColumn": 1,
                            },
                            "insertedContent": {"text": "import asyncio\n"},
                        },
                        {
                            "deletedRegion": {
                                "startLine": 14,
                                "startColumn": 9,
                                "endLine": 14,
                                "endColumn": 33,
                            },
                            "insertedContent": {"text": "await asyncio.sleep(self.backoff)"},
                        },
                    ],
                }
            ],
            "properties": {"applicability": "safe"},
        }
    ]
    assert results[1]["fixes"][0]["properties"] == {"applicability": "unsafe"}
    assert "fixes" not in results[2]
    multi = results[2]["locations"][0]["physicalLocation"]["region"]
    assert multi == {"startLine": 3, "startColumn": 11, "endLine": 6, "endColumn": 6}
    uni = results[4]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uni == {"uri": "app/%C3%BCn%C3%AF%20code.py", "uriBaseId": "%SRCROOT%"}


def test_sarif_finding_with_a_code_missing_from_the_rule_table(
    sarif_validator: Draft7Validator,
) -> None:
    log = json.loads(sarif_format.render(make_report(MULTI_F, rules={"AC101": RULES["AC101"]})))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["AC101", "AC103"]
    assert rules[1]["shortDescription"]["text"]
    assert log["runs"][0]["results"][0]["ruleIndex"] == 1
    assert sarif_errors(sarif_validator, log) == []


def test_sarif_absolute_path_is_a_file_uri(sarif_validator: Draft7Validator) -> None:
    absolute = str(Path("/srv/app/main.py").resolve())
    log = json.loads(sarif_format.render(make_report(dataclasses.replace(MULTI_F, path=absolute))))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///")
    assert "uriBaseId" not in location["artifactLocation"]
    assert sarif_errors(sarif_validator, log) == []


def test_sarif_empty() -> None:
    log = json.loads(sarif_format.render(EMPTY))
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)
    assert sarif_format.render(EMPTY).endswith("}\n")


# --- github -----------------------------------------------------------------------------------


def test_github_snapshot() -> None:
    assert github_format.render(REPORT) == (
        "::error title=asynccheck (AC101),file=app/handlers.py,line=14,col=9,endLine=14,"
        "endColumn=33::AC101 time.sleep() blocks the event loop; use await asyncio.sleep()\n"
        "::error title=asynccheck (AC102),file=app/handlers.py,line=20,col=16,endLine=20,"
        "endColumn=38::AC102 requests.get() blocks the event loop; use await asyncio.to_thread()\n"
        "::error title=asynccheck (AC103),file=app/jobs.py,line=3,col=11,endLine=6,endColumn=6"
        "::AC103 subprocess.run() blocks the event loop; use await "
        "asyncio.create_subprocess_exec()\n"
        "::error title=asynccheck (AC104),file=app/tabbed.py,line=2,col=9,endLine=2,"
        "endColumn=19::AC104 open() blocks the event loop; use await asyncio.to_thread()\n"
        "::error title=asynccheck (AC105),file=app/ünï code.py,line=7,col=10,endLine=7,"
        "endColumn=39::AC105 socket.gethostbyname() blocks the event loop; use await "
        "loop.getaddrinfo()\n"
    )


def test_github_escapes_message_and_properties() -> None:
    nasty = Finding(
        "AC001",
        "100% broken:\r\nline two, col 3\n::warning::injected",
        "dir:one,two/50%.py",
        P(2, 7),
        P(2, 8),
    )
    assert github_format.render(make_report(nasty)) == (
        "::error title=asynccheck (AC001),file=dir%3Aone%2Ctwo/50%25.py,line=2,col=7,"
        "endLine=2,endColumn=8::AC001 100%25 broken:%0D%0Aline two, col 3%0A::warning::injected\n"
    )


def test_github_escape_helpers() -> None:
    assert github_format.escape_data("a%b:c,d\re\nf") == "a%25b:c,d%0De%0Af"
    assert github_format.escape_property("a%b:c,d\re\nf") == "a%25b%3Ac%2Cd%0De%0Af"
    assert github_format.escape_data("%0A") == "%250A"  # `%` first: no double meaning


def test_github_empty() -> None:
    assert github_format.render(EMPTY) == ""


# --- every format -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic(fmt: str) -> None:
    render = renderer(fmt)
    rebuilt = make_report(*(dataclasses.replace(f) for f in reversed(FINDINGS)))
    first = render(REPORT)
    assert first == render(REPORT) == render(rebuilt)
    assert first.encode("utf-8") == render(rebuilt).encode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_the_empty_report(fmt: str) -> None:
    expected = {
        "text": "All checks passed!\n",
        "concise": "All checks passed!\n",
        "json": "[]\n",
        "github": "",
    }
    out = renderer(fmt)(EMPTY)
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"] == []
    else:
        assert out == expected[fmt]


def test_text_help_line_for_a_finding_whose_fix_cannot_be_made_there() -> None:
    """A fixable rule's advice is shown even where no fix is attached (issue 12)."""
    from asynccheck.lint.api import lint_source

    source = "import requests\nasync def f(us):\n    return [requests.get(u) for u in us]\n"
    (finding,) = lint_source(source, select=["AC102"])
    assert finding.fix is None and finding.help.startswith("Run the call in a worker thread")
    out = text_format.render(make_report(finding))
    assert "= help: Run the call in a worker thread" in out
    cached = Finding.from_tuple(finding.path, finding.to_tuple())
    assert cached == finding


def test_no_advice_to_await_in_sync_code_on_the_loop() -> None:
    from asynccheck.lint.api import lint_source

    source = (
        "import time, asyncio\nclass P(asyncio.Protocol):\n"
        "    def data_received(self, data):\n        time.sleep(1)\n"
    )
    findings = lint_source(source, select=["AC101"])
    assert [f.help for f in findings] == [
        "Schedule what follows the sleep with `loop.call_later(delay, callback)`"
    ]
