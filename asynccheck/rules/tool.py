"""AC0xx: problems with the input itself. The engine emits these; no check runs."""

from __future__ import annotations

from asynccheck.rules.base import Example, Rule


class SyntaxErrorRule(Rule):
    """The file could not be parsed, so nothing in it was checked. The message gives the
    parser's reason and the row and column where it stopped."""

    code = "AC001"
    name = "syntax-error"
    message = "SyntaxError: {reason}"
    needs_async = False
    bad = (
        Example("async def f(:\n    pass\n"),
        Example("x = (1,\n"),
        Example("def f():\nreturn 1\n"),
    )
    good = (
        Example("async def f():\n    pass\n"),
        Example("x = (1,)\n"),
        Example("match x:\n    case 1:\n        pass\n"),
    )


class UnreadableFile(Rule):
    """The file could not be read (permissions, a broken link) or decoded (not UTF-8 and no
    valid coding cookie, or binary). Nothing in it was checked."""

    code = "AC002"
    name = "unreadable-file"
    message = "cannot read file: {reason}"
    needs_async = False
    bad = (
        Example("# -*- coding: not-a-codec -*-\nx = 1\n"),
        Example("# -*- coding: ascii -*-\ns = 'caf\u00e9'\n"),
        Example("x = b'\\x00'\n\u0000\n"),
    )
    good = (
        Example("# -*- coding: latin-1 -*-\nx = 1\n"),
        Example("\ufeffx = 1\n"),
        Example("s = 'caf\u00e9'\n"),
    )
