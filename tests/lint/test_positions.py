"""Placing a node through its statement alone must agree with generating the whole module."""

from __future__ import annotations

from pathlib import Path

import libcst
import pytest

from asynccheck.lint import positions
from asynccheck.lint.context import FileContext
from asynccheck.lint.facts import collect

TRICKY = {
    "elif with the condition of an earlier if": (
        "if x:\n    f()\nelif x:\n    f()\nif x:\n    f()\n"
    ),
    "a statement repeated verbatim": "def a():\n    g(1)\n\n\ndef b():\n    g(1)\n",
    "code-like text in a string": 'DOC = """\n    h(2)\n"""\n\n\ndef f():\n    h(2)\n',
    "tabs and a comment at column 0": "def f():\n\tif y:\n# note\n\t\tg(3)\n\treturn g(4)\n",
    "CRLF": "import time\r\n\r\nasync def f():\r\n    time.sleep(1)\r\n    k = [\r\n        g(5),\r\n    ]\r\n",
    "lone CR": "x = 1\rdef f():\r    g(6)\r",
    "no trailing newline": "def f():\n    g(7)\n\n\ndef e():\n    g(7)",
    "semicolons and one-line suites": "a = g(1); b = g(2)\nif a: g(3); g(4)\nwhile b: g(5)\n",
    "decorators and comments above": (
        "# top\n@deco(g(1))\n# between\n@other\nasync def f():\n    # inside\n    await g(2)\n"
    ),
    "form feed and unicode": "\x0cdef f():\n    s = 'héllo'; g(s)\n    return g('é')\n",
    "nested blocks": (
        "class C:\n    def m(self):\n        try:\n            with a() as b:\n"
        "                for i in g(1):\n                    g(i)\n"
        "        except E:\n            g(2)\n        finally:\n            g(3)\n"
    ),
    "match": "match p:\n    case [x]:\n        g(x)\n    case _:\n        g(0)\n",
}

_SOURCE_TREE = sorted((Path(__file__).resolve().parents[2] / "asynccheck").rglob("*.py"))


def _compare(source: str) -> int:
    """Place every call and statement both ways; return how many were compared."""
    module = libcst.parse_module(source)
    facts = collect(module, frozenset(("With", "For", "While", "Try", "If")))
    sites = [s for s in (*facts.calls, *(s for kind in facts.sites.values() for s in kind))]
    ctx = FileContext("x.py", source, module, facts)
    requests = [
        (ctx.hosts(site.stmt), (site.node, site.stmt)) for site in sites if site.stmt is not None
    ]
    cheap = positions.spans(module, source, requests)
    if module.code != source:
        # libcst does not give back every file byte for byte (a leading form feed is lost):
        # the whole-module pass is off there, so check the text found instead.
        for _, (node, _stmt) in requests:
            span = cheap[id(node)]
            assert source[span.start : span.end] == module.code_for_node(node).strip()
        return len(requests)
    every = [node for _, nodes in requests for node in nodes]
    slow = positions.spans(module, source, [((), every)])
    for _, nodes in requests:
        for node in nodes:
            assert cheap[id(node)] == slow[id(node)], module.code_for_node(node)
    return len(requests)


@pytest.mark.parametrize("source", TRICKY.values(), ids=list(TRICKY))
def test_tricky_layouts_place_nodes_as_the_whole_module_does(source):
    assert _compare(source) > 0


def test_every_call_in_our_own_source_is_placed_as_the_whole_module_does(monkeypatch):
    fell_back: list[int] = []
    original = positions._spans_in_module

    def spy(module, targets):
        fell_back.append(len(targets))
        return original(module, targets)

    monkeypatch.setattr(positions, "_spans_in_module", spy)
    checked = sum(_compare(path.read_text(encoding="utf-8")) for path in _SOURCE_TREE)
    assert checked > 2000
    # The comparison's own whole-module pass is one per file; the cheap path's fallbacks
    # are the rest, and they must be rare.
    own_passes = len(_SOURCE_TREE)
    assert len(fell_back) - own_passes <= 2


def test_a_unique_statement_is_placed_without_generating_the_module(monkeypatch):
    source = "import time\n\n\nasync def f():\n    time.sleep(1)\n"
    module = libcst.parse_module(source)
    call = module.body[1].body.body[0].body[0].value
    stmt = module.body[1].body.body[0]
    generated: list[str] = []
    original = positions._generate

    def spy(module, node, targets, indent):
        generated.append(type(node).__name__)
        return original(module, node, targets, indent)

    monkeypatch.setattr(positions, "_generate", spy)
    span = positions.spans(module, source, [((stmt,), (call, stmt))])[id(call)]
    assert (span.start_row, span.start_col, span.end_row, span.end_col) == (5, 5, 5, 18)
    assert source[span.start : span.end] == "time.sleep(1)"
    assert "Module" not in generated
