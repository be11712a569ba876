"""A module summarised for the project step alone is parsed skimmed (lint.project.skim): the
summary must be the very one the whole text gives."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from asynccheck.lint.checker import Checker
from asynccheck.lint.context import FileContext
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import collect
from asynccheck.lint.project.skim import parse_for_summary, skim

MODULE = '''
import os
import time


class Store:
    def __init__(self, path):
        self.path = path

    async def async_load(self, name):
        """Load it.

Text at the margin of a docstring.
        """
        data = await self._read(name)
        return {"k": data, "j": [1, 2,
    3]}

    async def async_fetch(self, name):
        """Fetch it.

        Blank lines and brackets inside are fine.
        """
        return await self._get(
            name,
        )

    async def async_save(self):
        self.saved = True
        await self._write()

    async def async_nested(self):
        def inner():
            time.sleep(1)
        return inner

    async def async_plain(self, x):
        # a comment
        y = f"{x['a']} {x["b"]}"
        if y:
            return os.path.exists(y)

        return None

    def save(self):
        open(self.path, "w").close()


async def run(
    a: int,
    b: str = "):",
) -> None:
    global COUNT
    COUNT = 1


async def tick(*, now):
    await now()
    return [
        now
    ]
async def one_line(): return 1


def sync():
    time.sleep(1)
'''


def _summary(text: str, parsed_text: str, tree: object) -> tuple[object, ...]:
    checker = Checker(frozenset(("AC110",)))
    ctx = FileContext("", parsed_text, tree, collect(tree, frozenset(("Yield",))))
    try:
        return checker._summarise(ctx, "pkg.store", False).to_tuple()
    finally:
        ctx.release()


def test_only_bodies_that_bind_nothing_outside_are_left_out() -> None:
    skimmed = skim(MODULE)
    assert skimmed is not None and skimmed.elided == frozenset()
    short = skimmed.text
    assert "await self._get(" not in short  # async_fetch: left out
    assert "os.path.exists(y)" not in short  # async_plain: left out
    assert "await now()" not in short  # tick: no `self`
    # async_load is kept: a line of it (in a docstring, in brackets) is not indented deeper
    # than its def, and this scan does not tell those from the end of the body
    for kept in (
        "data = await self._read(name)",
        "self.saved = True",
        "def inner():",
        "global COUNT",
        "return 1",
        "time.sleep",
    ):
        assert kept in short


def test_the_summary_is_the_whole_texts() -> None:
    tree = cst.parse_module(MODULE)
    parsed = parse_for_summary(MODULE)
    assert parsed is not None and parsed[0] != MODULE and parsed[2] == frozenset()
    assert _summary(MODULE, *parsed[:2]) == _summary(MODULE, MODULE, tree)


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\n",  # no async
        "async def f():\n\tawait g()\n",  # tabs: not read
        "s = '''\nasync def f():\n    pass\n'''\n",  # inside a string
        "async def f(): return 1\n",  # one line
    ],
)
def test_texts_it_does_not_skim(text: str) -> None:
    assert skim(text) is None


def test_an_unparsable_text_is_none_and_a_bad_skim_falls_back_to_the_whole() -> None:
    assert parse_for_summary("def f(:\n") is None
    text = textwrap.dedent(
        """
        async def f():
            x = 1
        y = 2
        """
    )
    parsed = parse_for_summary(text)
    assert parsed is not None
    assert "y = 2" in parsed[0]


# -- for some names only ----------------------------------------------------------------------
NAMED = """
import time
from .other import Base, helper

LIMIT = make_limit()


def make_limit():
    return 3


def deco(f):
    return f


def _write(path):
    open(path).close()


def save(path):
    _write(path)


def unrelated():
    time.sleep(1)


def unrelated_too():
    unrelated()


class Local(Base):
    def run(self):
        time.sleep(LIMIT)


class Store(Local):
    @deco
    def put(self, value):
        save(value)


def sets_state():
    global LIMIT
    LIMIT = 4


async def fetch():
    return await helper()
"""


def test_only_what_the_wanted_names_need_is_kept() -> None:
    skimmed = skim(NAMED, frozenset({"Store"}))
    assert skimmed is not None
    # Store keeps its header and so its base Local; their methods are stubs. The module's
    # own statements call make_limit; a def that says `global` is always kept; a coroutine
    # function's stub says all its summary would (it nests nothing), so it is not elided.
    assert skimmed.elided == frozenset(
        {"Store.put", "Local.run", "deco", "_write", "save", "unrelated", "unrelated_too"}
    )
    assert "time.sleep(1)" not in skimmed.text and "LIMIT = 4" in skimmed.text
    assert "    def put(): ..." in skimmed.text and "async def fetch(): ..." in skimmed.text


def test_a_wanted_method_keeps_what_it_calls() -> None:
    skimmed = skim(NAMED, frozenset({"Store.put"}))
    assert skimmed is not None
    assert skimmed.elided == frozenset({"Local.run", "deco", "unrelated", "unrelated_too"})


def test_a_summary_for_some_names_says_what_the_whole_one_says_about_them() -> None:
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(NAMED, "pkg.mod", False)
    part = checker.summary_of(NAMED, "pkg.mod", False, frozenset({"save"}))
    assert whole is not None and part is not None
    assert whole.elided == frozenset() and "unrelated" in part.elided
    for name in ("save", "_write", "make_limit", "fetch"):
        assert part.defs[name] == whole.defs[name] and part.covers((name,))
    assert part.imports == whole.imports
    assert not part.covers(("unrelated",)) and not part.covers(("Store.put",))
    assert "unrelated" not in part.defs and "Store" not in part.classes


METHODS = """
import httpx

from .other import setup


def fail(message):
    raise RuntimeError(message)


class Client:
    def __init__(self, url):
        self.url = url

    def configure(self, strict):
        setup(self.url)
        if strict:
            self.client = httpx.Client(
                base_url=self.url,
            )
        self.retries: int = 3

    async def start(self):
        self.started = True
        await setup()

    def fetch(self):
        if not self.url:
            fail("no url")
        return self.client.get(self.url)

    def check(self):
        if self.url:
            self._raise()
            self.client.get(self.url)
        return self.retries

    def _raise(self):
        raise ValueError(self.url)

    def unrelated(self):
        open(self.url).close()
"""


def test_a_method_that_binds_attributes_keeps_only_those_statements() -> None:
    skimmed = skim(METHODS, frozenset({"Client.fetch"}))
    assert skimmed is not None
    assert "setup(self.url)" not in skimmed.text and "await setup()" not in skimmed.text
    assert "        self.client = httpx.Client(" in skimmed.text  # moved out of its `if`
    assert "self.retries: int = 3" in skimmed.text and "self.started = True" in skimmed.text
    assert "raise RuntimeError" in skimmed.text  # fetch calls fail: it ends paths there
    # configure's stub has its bindings only, so its own summary is left out; start's
    # says all a coroutine function's would
    assert skimmed.elided == frozenset(
        {"Client.configure", "Client.check", "Client._raise", "Client.unrelated"}
    )


@pytest.mark.parametrize("wanted", ["Client.fetch", "Client.check", "Client", "fail"])
def test_what_a_summary_for_some_names_has_is_what_the_whole_says(wanted: str) -> None:
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(METHODS, "pkg.mod", False)
    part = checker.summary_of(METHODS, "pkg.mod", False, frozenset({wanted}))
    assert whole is not None and part is not None and part.elided
    assert part.covers((wanted,)) and wanted in part.kept_names()
    assert part.classes.get("Client") == whole.classes["Client"] or wanted == "fail"
    for name, info in part.defs.items():
        assert whole.defs[name] == info, name
    assert part.imports == whole.imports


def test_a_noqa_in_a_kept_def_still_cuts_its_chain() -> None:
    """The skimmed text has fewer lines; a suppression is read on the line of the text
    parsed, so it is found all the same."""
    text = METHODS.replace("open(self.url).close()", "open(self.url).close()  # noqa: AC104")
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(text, "pkg.mod", False)
    part = checker.summary_of(text, "pkg.mod", False, frozenset({"Client.unrelated"}))
    assert whole is not None and part is not None
    assert part.defs["Client.unrelated"] == whole.defs["Client.unrelated"]
    assert whole.defs["Client.unrelated"].blocking is None


def test_a_left_out_method_is_not_covered_nor_what_it_holds() -> None:
    checker = Checker(frozenset(("AC110",)))
    part = checker.summary_of(METHODS, "pkg.mod", False, frozenset({"Client.fetch"}))
    assert part is not None
    assert part.covers(("Client", "Client.fetch", "Client.start", "fail"))
    assert not part.covers(("Client.unrelated",))
    assert not part.covers(("Client.configure.<locals>.inner",))
    assert "Client.unrelated" not in part.defs


def test_names_the_module_does_not_define_leave_out_every_def_and_class() -> None:
    skimmed = skim(NAMED, frozenset({"nothing_here"}))
    assert skimmed is not None
    assert "save" in skimmed.elided and "Store" in skimmed.elided
    assert "make_limit" not in skimmed.elided and "sets_state" not in skimmed.elided


def test_two_summaries_for_some_names_join_into_one_that_covers_both() -> None:
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(METHODS, "pkg.mod", False)
    first = checker.summary_of(METHODS, "pkg.mod", False, frozenset({"fail"}))
    second = checker.summary_of(METHODS, "pkg.mod", False, frozenset({"Client.fetch"}))
    assert whole is not None and first is not None and second is not None
    assert "Client" in first.elided and "Client.unrelated" in second.elided
    for joined in (first.joined(second), second.joined(first)):
        assert joined.covers(("fail", "Client", "Client.fetch", "Client.start"))
        assert not joined.covers(("Client.unrelated",))  # left out of both
        assert not joined.covers(("Client.unrelated.<locals>.inner",))
        for name, info in joined.defs.items():
            assert whole.defs[name] == info
        assert joined.classes == whole.classes
    assert first.joined(whole) is whole and whole.joined(first) is whole


def _real_modules() -> list[Path]:
    """This package's own modules and the fixtures: real code, with classes, decorators,
    properties, nested defs and attributes bound in every way."""
    root = Path(__file__).resolve().parents[2]
    found = sorted((root / "asynccheck").rglob("*.py")) + sorted((root / "fixtures").rglob("*.py"))
    return found[::3]


@pytest.mark.parametrize("path", _real_modules(), ids=lambda p: p.name)
def test_a_summary_for_some_names_agrees_with_the_whole_one_on_real_modules(path: Path) -> None:
    """What a partial summary has is what the whole one says, and what it lacks it does
    not claim to cover (a read of it would take "absent" for an answer)."""
    text = path.read_text(encoding="utf-8")
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(text, "pkg.mod", False)
    assert whole is not None
    names = sorted(whole.kept_names())
    chooser = random.Random(path.name)
    for size in (1, 3):
        wanted = frozenset(chooser.sample(names, min(size, len(names))))
        part = checker.summary_of(text, "pkg.mod", False, wanted)
        assert part is not None and part.covers(wanted)
        assert part.imports == whole.imports
        assert {n: whole.defs.get(n) for n in part.defs} == dict(part.defs)
        assert {n: whole.classes.get(n) for n in part.classes} == dict(part.classes)
        for name in (*whole.defs, *whole.classes):
            assert name in part.defs or name in part.classes or not part.covers((name,)), name


ASSIGNED = """
import httpx

client = httpx.Client()
TIMEOUT: float = make_timeout()
UNUSED = expensive_setup(
    "lines",
)
try:
    import fast
except ImportError:
    fast = None


def make_timeout():
    return 3.0


def expensive_setup(x):
    return x


def fetch(url):
    return client.get(url, timeout=TIMEOUT)
"""


def test_a_module_assignment_is_kept_when_the_kept_text_reads_it() -> None:
    skimmed = skim(ASSIGNED, frozenset({"fetch"}))
    assert skimmed is not None
    assert "client = httpx.Client()" in skimmed.text and "make_timeout" in skimmed.text
    assert "UNUSED" not in skimmed.text and "return x" not in skimmed.text
    assert "fast = None" in skimmed.text  # inside a `try`: kept with it
    checker = Checker(frozenset(("AC110",)))
    whole = checker.summary_of(ASSIGNED, "pkg.mod", False)
    part = checker.summary_of(ASSIGNED, "pkg.mod", False, frozenset({"fetch"}))
    assert whole is not None and part is not None
    assert part.defs["fetch"] == whole.defs["fetch"] and whole.defs["fetch"].blocking is not None


def test_a_wanted_coroutine_method_keeps_only_its_bindings() -> None:
    """Its summary says only that it is a coroutine function; the class's attributes come
    from its bindings."""
    skimmed = skim(METHODS, frozenset({"Client.start"}))
    assert skimmed is not None
    assert "self.started = True" in skimmed.text and "await setup()" not in skimmed.text
    assert "Client.start" not in skimmed.elided


@pytest.mark.parametrize(
    "text",
    [
        "".join(f"def f{i}():\n    f{i + 1}()\n\n" for i in range(3000))
        + "def f3000():\n    pass\n",
        "class C0:\n    def m(self):\n        pass\n\n"
        + "".join(f"class C{i}(C{i - 1}):\n    pass\n\n" for i in range(1, 3000)),
    ],
    ids=["3000 helpers in a chain", "3000 classes deep"],
)
def test_a_long_chain_in_a_module_is_followed_without_recursion(text: str) -> None:
    """Half the chain is followed (kept), the other half is not needed (left out)."""
    functions = "def f0" in text
    skimmed = skim(text, frozenset({"f1500"} if functions else {"C1500.m"}))
    assert skimmed is not None
    assert ("f0" if functions else "C2999") in skimmed.elided
    assert ("f2999" if functions else "C0") not in skimmed.elided
