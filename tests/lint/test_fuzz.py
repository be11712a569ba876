"""hypothesmith programs: linting with every rule never raises, and fixes always re-parse.

The normal run draws 100 programs from the grammar, 10 from libcst nodes (hypothesmith's
`from_node` takes about a second an example) and 200 fixer programs. For a long run:
`pytest tests/lint/test_fuzz.py --fuzz-examples 10000` (or ASYNCCHECK_FUZZ_EXAMPLES=10000):
10,000 from the grammar, 1,000 from nodes, 20,000 fixer programs.
"""

from __future__ import annotations

import ast

import hypothesmith
import libcst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asynccheck.config import Config
from asynccheck.lint.api import lint_source
from asynccheck.lint.checker import checker_for
from asynccheck.lint.fix import fix_until_stable

pytestmark = [
    pytest.mark.slow,
    # hypothesmith compiles what it generates; CPython's warnings about it are noise here.
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
]

EVERY_RULE = ["ALL"]
_CHECKER = checker_for(Config(select=("ALL",)))


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=examples <= 500,  # the normal run is reproducible; long runs explore
        suppress_health_check=list(HealthCheck),
        database=None,
    )


def _parses(text: str) -> bool:
    try:
        libcst.parse_module(text)
    except Exception:
        return False
    return True


def _lint_everything(source: str) -> None:
    findings = lint_source(source, select=EVERY_RULE, path="fuzz.py")
    for finding in findings:
        assert finding.location.row >= 1 and finding.location.column >= 1
        assert finding.end_location >= finding.location or finding.code in ("AC001", "AC002")


def test_lint_any_program_from_the_grammar(fuzz_examples):
    @_settings(fuzz_examples)
    @given(hypothesmith.from_grammar())
    def check(source: str) -> None:
        _lint_everything(source)

    check()


def test_lint_any_program_from_libcst_nodes(fuzz_examples):
    @_settings(max(fuzz_examples // 10, 10))
    @given(hypothesmith.from_node())
    def check(source: str) -> None:
        _lint_everything(source)
        # The same program made async: the rules that need `async` get to run on it too.
        _lint_everything(
            "import time, asyncio, os, subprocess\nasync def _f():\n" + _indent(source)
        )

    check()


def _indent(source: str) -> str:
    lines = source.splitlines() or ["pass"]
    body = "".join(f"    {line}\n" for line in lines)
    return body if body.strip() else "    pass\n"


# Places a blocking call can sit inside an `async def`; `{call}` is `time.sleep(<expr>)`.
TEMPLATES = (
    "    {call}\n",
    "    x = {call}\n",
    "    return {call}\n",
    "    if {call}:\n        pass\n",
    "    while {call}:\n        break\n",
    "    with {call}:\n        pass\n",
    "    y = [{call} for _ in range(3)]\n",
    "    z = lambda: {call}\n",
    "    print({call}, {call})\n",
    "    a = b = not {call}\n",
    "    x += {call} or 1\n",
    "    def inner():\n        {call}\n    {call}\n",
    "    async with cm() as c:\n        await c.send({call})\n",
    "    try:\n        {call}\n    except Exception:\n        {call}\n",
    "    x: int = {call}\n",
    "    f'{{{call}}}'\n",
    "    yield {call}\n",
    "    assert {call}, {call}\n",
    "    del x[{call}]\n",
    "    (yield)\n    {call}; {call}\n",
)
HEADERS = (
    "import time\n",
    "import time as t\ntime = t\n",
    "from time import sleep\nimport time\n",
    '"""Doc."""\nfrom __future__ import annotations\nimport time\n',
    "import asyncio as aio\nimport time\n",
    "import time\nasyncio = 1\n",
    "import time, requests, subprocess\n",
)


# Arguments: a small expression grammar (hypothesmith's `eval_input` start symbol hangs in
# generation, so it is not used here).
_ATOMS = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.floats(0, 10, allow_nan=False).map(repr),
    st.sampled_from(("x", "self.backoff", "cfg['delay']", "None", "...", "'s'", "b'\\n'")),
    st.text("ab #'\"\\\n", max_size=6).map(repr),
)
_EXPRESSIONS = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(("+", "*", "**", "if x else", "and", "<")), inner).map(
            " ".join
        ),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"f({e})"),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"[{e}, *y]"),
        inner.map(lambda e: f"(lambda: {e})()"),
        inner.map(lambda e: f"(\n    {e}  # note\n)"),
        inner.map(lambda e: f"f'{{{e}!r}}'"),
        inner.map(lambda e: f"(yield {e})"),
        inner.map(lambda e: f"await g({e})"),
    ),
    max_leaves=6,
)


@st.composite
def programs_with_a_blocking_sleep(draw: st.DrawFn) -> str:
    argument = draw(_EXPRESSIONS)
    call = draw(
        st.sampled_from(
            (
                f"time.sleep({argument})",
                f"time.sleep(({argument}))",
                "time.sleep(1)",
                f"requests.get({argument})",
                f"subprocess.run({argument})",
                f"open({argument}).read()",
            )
        )
    )
    header = draw(st.sampled_from(HEADERS))
    template = draw(st.sampled_from(TEMPLATES))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    source = f"{header}\n\nasync def handler():\n{template.format(call=call)}"
    return source.replace("\n", newline)


def test_fixes_of_generated_programs_always_reparse(fuzz_examples):
    @_settings(fuzz_examples * 2)
    @given(programs_with_a_blocking_sleep())
    def check(source: str) -> None:
        try:
            compile(source, "fuzz.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            libcst.parse_module(source)
        except (SyntaxError, ValueError, libcst.ParserSyntaxError):
            return  # the generated argument made the program invalid: nothing to fix
        outcome = fix_until_stable(
            source, lambda text: _CHECKER.check("fuzz.py", text), _parses, unsafe=True
        )
        assert _parses(outcome.text), outcome.text
        compile(outcome.text, "fuzz.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        # A second --fix finds nothing more to fix.
        again = fix_until_stable(
            outcome.text, lambda text: _CHECKER.check("fuzz.py", text), _parses, unsafe=True
        )
        assert again.text == outcome.text
        assert again.fixed == 0
        # Line endings stay the file's own.
        if "\r\n" in source:
            assert "\n" not in outcome.text.replace("\r\n", "")

    check()


def test_fix_through_the_cli_with_unsafe_fixes(tree, cli):
    source = (
        "import time\nimport subprocess\n\n\nasync def handler(cmd):\n"
        "    x = [time.sleep(0.1) for _ in range(2)]\n"
        "    if subprocess.run(cmd):\n        time.sleep(1)\n"
    )
    root = tree({"a.py": source})
    cli("lint", "--fix", "--unsafe-fixes", "a.py")
    fixed = (root / "a.py").read_text()
    libcst.parse_module(fixed)
    compile(fixed, "a.py", "exec")
    assert "await asyncio.sleep(1)" in fixed
