"""Cross-module AC110 (lint.project): import forms, methods, re-exports, hand-offs, `noqa`,
the pre-commit single-file case, the cache's exactness and bad input, on fixture projects
built in tmp_path."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

from asynccheck.config import Config
from asynccheck.lint import engine
from asynccheck.lint.checker import Checker
from asynccheck.lint.engine import RunOptions, run
from asynccheck.lint.project.step import ProjectStep

TAIL = " blocks the event loop;"

STORAGE = """
    import json
    import time

    def _write(path, data):
        with open(path, "w") as f:
            json.dump(data, f)

    def save_order(order):
        _write("orders.json", order)

    def pure(x):
        return x + 1

    async def async_save(order):
        time.sleep(1)

    class Repo:
        def get(self, key):
            time.sleep(0.1)
            return key
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def lint(root: Path, *paths: str, cache: bool = False, jobs: int = 1) -> list[tuple[str, int, str]]:
    """(file, row, chain) of each AC110 finding, linting `paths` from `root`."""
    here = os.getcwd()
    os.chdir(root)
    try:
        config = Config(root=str(root), select=("AC110",))
        result = run(list(paths) or ["."], config, RunOptions(jobs=jobs, use_cache=cache))
    finally:
        os.chdir(here)
    return [
        (Path(f.path).as_posix(), f.location.row, f.message.split(TAIL)[0])
        for f in result.findings
        if f.code == "AC110"
    ]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "app/__init__.py": "from .storage import save_order as save\n",
            "app/storage.py": STORAGE,
            "app/handlers.py": """
                import asyncio
                import app.storage as st
                from app import save
                from .storage import Repo, async_save, pure, save_order

                class Handler:
                    repo2: Repo

                    def __init__(self):
                        self.repo = Repo()

                    async def handle(self, order):
                        save_order(order)
                        st.save_order(order)
                        save(order)
                        self.repo.get("k")
                        self.repo2.get("k")
                        Repo().get("x")
                        pure(1)
                        await async_save(order)
                        await asyncio.to_thread(save_order, order)
                        await asyncio.get_running_loop().run_in_executor(None, save_order, order)
            """,
        },
    )


EXPECTED = [
    ("app/handlers.py", 14, "storage.save_order() -> storage._write() -> open()"),
    ("app/handlers.py", 15, "storage.save_order() -> storage._write() -> open()"),
    ("app/handlers.py", 16, "storage.save_order() -> storage._write() -> open()"),
    ("app/handlers.py", 17, "storage.Repo.get() -> time.sleep()"),
    ("app/handlers.py", 18, "storage.Repo.get() -> time.sleep()"),
    ("app/handlers.py", 19, "storage.Repo.get() -> time.sleep()"),
]


def test_every_import_form_and_method_receiver_is_followed(app: Path) -> None:
    assert lint(app) == EXPECTED


def test_one_file_named_alone_reports_the_same_chains(app: Path) -> None:
    """What pre-commit passes: the helper modules are summarised, not reported."""
    assert lint(app, "app/handlers.py") == EXPECTED
    assert lint(app / "app", "handlers.py") == [
        ("handlers.py", row, chain) for _, row, chain in EXPECTED
    ]


def test_the_worker_pool_gives_the_same_chains(app: Path) -> None:
    extra = {f"app/m{i}.py": "async def f():\n    pass\n" for i in range(20)}
    write(app, extra)
    assert lint(app, jobs=2) == EXPECTED


def test_src_layout_and_a_class_from_another_module_with_inherited_method(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/svc/__init__.py": "",
            "src/svc/base.py": """
                import subprocess

                class Base:
                    def run(self):
                        return subprocess.run(["ls"])
            """,
            "src/svc/child.py": """
                from svc.base import Base

                class Child(Base):
                    def __init__(self):
                        self.ready = True
            """,
            "src/svc/api.py": """
                from svc.child import Child

                def helper():
                    return Child().run()

                async def main(worker: Child):
                    worker.run()
                    helper()
            """,
        },
    )
    assert lint(tmp_path, "src/svc/api.py") == [
        ("src/svc/api.py", 8, "base.Base.run() -> subprocess.run()"),
        ("src/svc/api.py", 9, "helper() -> base.Base.run() -> subprocess.run()"),
    ]


def test_noqa_in_the_helper_cuts_the_chain_and_noqa_at_the_call_silences_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/io.py": """
                def read(path):
                    return open(path).read()  # noqa: AC104 - tiny file, read once

                def load(path):
                    return open(path).read()
            """,
            "pkg/main.py": """
                from pkg.io import load, read

                async def main():
                    read("a")
                    load("b")  # noqa: AC110
                    load("c")
            """,
        },
    )
    assert lint(tmp_path) == [("pkg/main.py", 7, "io.load() -> open(path).read()")]


def test_an_unparsable_helper_a_cycle_and_two_names_for_one_module_do_not_crash(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import a as alias\nfrom pkg.a import ping\n",
            "pkg/broken.py": "def f(:\n",
            "pkg/a.py": """
                from pkg.b import pong

                def ping(n):
                    return pong(n)
            """,
            "pkg/b.py": """
                from pkg.a import ping

                def pong(n):
                    return ping(n - 1) if n else open("x")
            """,
            "pkg/main.py": """
                import pkg
                from pkg import alias
                from pkg.broken import f
                from pkg.main import main as again

                async def main():
                    f()
                    alias.ping(3)
                    pkg.ping(2)
                    again()
            """,
        },
    )
    assert lint(tmp_path, "pkg/main.py") == [
        ("pkg/main.py", 9, "a.ping() -> b.pong() -> open()"),
        ("pkg/main.py", 10, "a.ping() -> b.pong() -> open()"),
    ]


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed during the test (in-process runs only)."""
    seen: list[str] = []
    check, summary_of = Checker._check, Checker.summary_of

    def spy_check(self: Checker, path: str, *args):  # type: ignore[no-untyped-def]
        seen.append(Path(path).name)
        return check(self, path, *args)

    def spy_summary(self: Checker, text: str, module: str, *args):  # type: ignore[no-untyped-def]
        seen.append(module)
        return summary_of(self, text, module, *args)

    monkeypatch.setattr(Checker, "_check", spy_check)
    monkeypatch.setattr(Checker, "summary_of", spy_summary)
    return seen


def test_a_changed_helper_invalidates_its_dependants_findings_only(
    app: Path, checked: list[str]
) -> None:
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    assert sorted(checked) == ["app", "app.storage", "handlers.py"]  # one parse each
    checked.clear()
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    assert checked == []  # warm: nothing parsed

    storage = app / "app/storage.py"
    # A comment changes the bytes, not the summary: the stored chains stay right.
    storage.write_text(storage.read_text() + "\n# a comment\n")
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    assert checked == ["app.storage"]
    checked.clear()

    # The helper stops blocking: handlers.py is not parsed again, its chains are redone.
    storage.write_text(storage.read_text().replace('    _write("orders.json", order)', "    pass"))
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED[3:]
    assert checked == ["app.storage"]
    checked.clear()
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED[3:]
    assert checked == []


def test_lint_source_alone_knows_no_project() -> None:
    from asynccheck.lint.api import lint_source

    source = "from pkg.io import load\n\nasync def main():\n    load('x')\n"
    assert lint_source(source, select=["AC110"]) == []


def test_a_protocol_callback_reaches_another_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/store.py": "import time\n\ndef flush():\n    time.sleep(1)\n",
            "pkg/proto.py": """
                import asyncio
                from pkg.store import flush

                class Server(asyncio.Protocol):
                    def data_received(self, data):
                        flush()

                def on_done(fut):
                    flush()

                async def main(fut):
                    fut.add_done_callback(on_done)
            """,
        },
    )
    assert lint(tmp_path, "pkg/proto.py") == [
        ("pkg/proto.py", 7, "store.flush() -> time.sleep()"),
        ("pkg/proto.py", 10, "store.flush() -> time.sleep()"),
    ]


FIXABLE = {
    "pkg/__init__.py": "",
    "pkg/store.py": """
        import time

        def flush():
            time.sleep(1)

        async def tick():
            time.sleep(1)
    """,
    "pkg/main.py": """
        import time
        from pkg.store import flush

        async def main():
            flush()
            time.sleep(1)
    """,
}


@pytest.mark.parametrize("mode", ["fix", "diff"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_fix_and_diff_report_the_cross_module_findings_too(
    tmp_path: Path, mode: str, jobs: int
) -> None:
    """AC110 has no fix, but --fix and --diff report and count it as a plain run does."""
    files = dict(FIXABLE)
    if jobs > 1:  # enough files for the worker pool
        files.update({f"pkg/m{i}.py": "async def f():\n    pass\n" for i in range(20)})
    write(tmp_path, files)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        config = Config(root=str(tmp_path), select=("AC101", "AC110"))
        plain = run(["."], config, RunOptions(jobs=jobs, use_cache=False))
        options = RunOptions(jobs=jobs, use_cache=False, **{mode: True})
        fixed = run(["."], config, options)
        again = run(["."], config, RunOptions(jobs=jobs, use_cache=False))
    finally:
        os.chdir(here)
    ac110 = [(Path(f.path).as_posix(), f.message) for f in plain.findings if f.code == "AC110"]
    assert [(p, m.split(TAIL)[0]) for p, m in ac110] == [
        ("pkg/main.py", "store.flush() -> time.sleep()")
    ]
    assert fixed.fixed == 2
    if mode == "diff":  # the findings of the text left on disk: all of them
        assert fixed.findings == plain.findings
        assert len(fixed.diffs) == 2
        assert again.findings == plain.findings
    else:  # the fixed text: AC101 is gone, AC110 stays (one row lower: `import asyncio`)
        assert [(Path(f.path).as_posix(), f.code, f.location.row) for f in fixed.findings] == [
            ("pkg/main.py", "AC110", 7)
        ]
        assert fixed.findings == again.findings


def test_the_cli_counts_cross_module_findings_with_fix(tree: Any, cli: Callable[..., Any]) -> None:
    tree({name: textwrap.dedent(text) for name, text in FIXABLE.items()})
    result = cli("lint", "--no-cache", "--fix", "--select", "AC101,AC110", ".")
    assert result.exit_code == 1
    assert "AC110 store.flush() -> time.sleep()" in result.stdout
    assert "Found 3 findings (2 fixed, 1 remaining)." in result.stdout


def test_a_long_re_export_chain_stops_without_a_crash(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/m0.py": "import time\n\ndef f():\n    time.sleep(1)\n"}
    for i in range(1, 30):
        files[f"pkg/m{i}.py"] = f"from pkg.m{i - 1} import f\n"
    files["pkg/near.py"] = "from pkg.m3 import f\n\nasync def main():\n    f()\n"
    files["pkg/far.py"] = "from pkg.m29 import f\n\nasync def main():\n    f()\n"
    write(tmp_path, files)
    assert lint(tmp_path, "pkg/near.py", "pkg/far.py") == [
        ("pkg/near.py", 4, "m0.f() -> time.sleep()")
    ]


def test_lost_questions_make_the_file_linted_again(app: Path, checked: list[str]) -> None:
    from asynccheck.lint.cachefile import CACHE_DIR_NAME

    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    checked.clear()
    for kept in (app / CACHE_DIR_NAME).glob("project-*.questions.*.marshal"):
        kept.unlink()
    storage = app / "app/storage.py"
    storage.write_text(storage.read_text().replace('    _write("orders.json", order)', "    pass"))
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED[3:]
    assert sorted(checked) == ["app.storage", "handlers.py"]


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[ProjectStep]:
    """The project steps of the runs made during the test (one per configuration)."""
    made: list[ProjectStep] = []
    make = engine._project_step

    def spy(*args):  # type: ignore[no-untyped-def]
        step = make(*args)
        made.append(step)
        return step

    monkeypatch.setattr(engine, "_project_step", spy)
    return made


MAIN = """
    from pkg.helpers import save

    async def main():
        save()
"""
BLOCKING_SAVE = "def save():\n    open('x').close()\n"


@pytest.mark.parametrize("named", [(), ("pkg/main.py",)], ids=["tree", "one-file"])
def test_a_new_module_gives_its_dependants_a_finding(tmp_path: Path, named: tuple[str]) -> None:
    """`pkg.helpers` resolves to nothing, then to a new file: answers that looked for it
    are not reused (whether or not the new file is among the linted ones)."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/main.py": MAIN})
    assert lint(tmp_path, *named, cache=True) == []
    write(tmp_path, {"pkg/helpers.py": BLOCKING_SAVE})
    assert lint(tmp_path, *named, cache=True) == [("pkg/main.py", 5, "helpers.save() -> open()")]


@pytest.mark.parametrize("named", [(), ("app/main.py",)], ids=["tree", "one-file"])
def test_a_new_package_gives_its_dependants_a_finding(tmp_path: Path, named: tuple[str]) -> None:
    """The module comes with a folder that did not exist: the nearest folder above it is
    the one watched."""
    main = "from app.pkg.sub.io import save\n\nasync def main():\n    save()\n"
    write(tmp_path, {"app/__init__.py": "", "app/main.py": main})
    assert lint(tmp_path, *named, cache=True) == []
    write(tmp_path, {"app/pkg/__init__.py": "", "app/pkg/sub/__init__.py": ""})
    assert lint(tmp_path, *named, cache=True) == []
    write(tmp_path, {"app/pkg/sub/io.py": BLOCKING_SAVE})
    assert lint(tmp_path, *named, cache=True) == [("app/main.py", 4, "io.save() -> open()")]


@pytest.mark.parametrize("named", [(), ("pkg/main.py",)], ids=["tree", "one-file"])
def test_a_deleted_module_takes_its_dependants_finding_away(
    tmp_path: Path, named: tuple[str], steps: list[ProjectStep]
) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/main.py": MAIN, "pkg/helpers.py": BLOCKING_SAVE})
    assert lint(tmp_path, *named, cache=True) == [("pkg/main.py", 5, "helpers.save() -> open()")]
    (tmp_path / "pkg/helpers.py").unlink()
    assert lint(tmp_path, *named, cache=True) == []
    store = steps[-1].store
    assert not [p for p in store.index if p.endswith("helpers.py")]  # its row is dropped
    steps.clear()
    assert lint(tmp_path, *named, cache=True) == []
    assert steps[-1].counts["asked"] == 0  # the answer without it is stored


def test_a_helper_that_starts_blocking_gives_its_dependants_a_finding(
    app: Path, checked: list[str], steps: list[ProjectStep]
) -> None:
    assert lint(app, cache=True) == EXPECTED
    storage = app / "app/storage.py"
    storage.write_text(storage.read_text().replace("return x + 1", "return open(x)"))
    checked.clear()
    pure = ("app/handlers.py", 20, "storage.pure() -> open()")
    assert lint(app, cache=True) == sorted([*EXPECTED, pure])
    assert checked == ["storage.py"]  # handlers.py is asked again, not parsed
    assert steps[-1].counts["asked"] == 1


def test_an_edit_that_keeps_what_dependants_read_touches_no_dependant(
    app: Path, checked: list[str], steps: list[ProjectStep]
) -> None:
    """A comment keeps the summary; a new def nobody calls changes it, but not the parts
    the dependants' answers read: neither is asked again."""
    assert lint(app, cache=True) == EXPECTED
    storage = app / "app/storage.py"
    for edit in ("\n# a comment\n", "\n\ndef unused():\n    open('x').close()\n"):
        storage.write_text(storage.read_text() + edit)
        checked.clear()
        steps.clear()
        assert lint(app, cache=True) == EXPECTED
        assert checked == ["storage.py"]
        assert steps[-1].counts["asked"] == 0
    assert steps[-1].counts["rechecked"] >= 1  # the new def: handlers.py's reads compared
    steps.clear()
    assert lint(app, cache=True) == EXPECTED
    assert steps[-1].counts == {"reused": 1, "rechecked": 0, "asked": 0, "summarised": 0}


def test_a_helper_changed_outside_the_linted_files_is_summarised_again(
    app: Path, checked: list[str], steps: list[ProjectStep]
) -> None:
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    storage = app / "app/storage.py"
    storage.write_text(storage.read_text() + "\n# a comment\n")
    checked.clear()
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    assert checked == ["app.storage"]
    assert steps[-1].counts["asked"] == 0
    os.utime(storage)  # touched, same bytes: not even parsed
    checked.clear()
    assert lint(app, "app/handlers.py", cache=True) == EXPECTED
    assert checked == []


def test_a_file_no_answer_looked_for_leaves_the_answers_alone(
    tmp_path: Path, steps: list[ProjectStep]
) -> None:
    """An editor's swap file next to where `pkg.helpers` would be: the folder changed,
    but not the answer; nothing is compared or asked again, then or after."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/main.py": MAIN})
    assert lint(tmp_path, "pkg/main.py", cache=True) == []
    for name in (".main.py.swp", "notes.txt", "helpers_test.py"):
        (tmp_path / "pkg" / name).write_text("x")
        steps.clear()
        assert lint(tmp_path, "pkg/main.py", cache=True) == []
        assert steps[-1].counts == {"reused": 1, "rechecked": 0, "asked": 0, "summarised": 0}


# --- protocol callbacks through a base class of another module --------------------------
PROTOCOLS = {
    "pkg/__init__.py": "from pkg.base import BaseProto as Exported\n",
    "pkg/base.py": """
        import asyncio

        class BaseProto(asyncio.BufferedProtocol):
            pass

        class Mid(BaseProto):
            pass

        class Plain:
            pass
    """,
    "pkg/store.py": "import time\n\ndef flush():\n    time.sleep(1)\n",
    "pkg/proto.py": """
        import time
        import twisted.internet.protocol as tp
        from pkg import Exported, base
        from pkg.store import flush
        from .base import BaseProto, Mid, Plain

        class Direct(BaseProto):
            def data_received(self, data):
                time.sleep(1)
                flush()

            def helper(self):
                time.sleep(1)  # not a callback

        class Inherited(Mid):
            def connection_lost(self, exc):
                open("log").close()

        class Local(Plain, base.BaseProto):  # a mixin first, the protocol by its module
            def eof_received(self):
                time.sleep(1)  # noqa: AC101

            def get_buffer(self, hint):
                time.sleep(1)

        class Layered(Direct):  # a local class between
            def buffer_updated(self, n):
                time.sleep(1)

        class ReExported(Exported):
            def pause_writing(self):
                time.sleep(1)

        class NotAProtocol(Plain):
            def data_received(self, data):
                time.sleep(1)
                flush()

        class Elsewhere(tp.Protocol):
            def data_received(self, data):
                time.sleep(1)
    """,
}
ON_LOOP = [
    ("pkg/proto.py", 10, "AC101"),
    ("pkg/proto.py", 11, "AC110"),
    ("pkg/proto.py", 18, "AC104"),
    ("pkg/proto.py", 25, "AC101"),
    ("pkg/proto.py", 29, "AC101"),
    ("pkg/proto.py", 33, "AC101"),
]


def lint_codes(
    root: Path, *paths: str, select: tuple[str, ...] = ("AC1",), cache: bool = False, jobs: int = 1
) -> list[tuple[str, int, str]]:
    here = os.getcwd()
    os.chdir(root)
    try:
        config = Config(root=str(root), select=select)
        result = run(list(paths) or ["."], config, RunOptions(jobs=jobs, use_cache=cache))
    finally:
        os.chdir(here)
    return [(Path(f.path).as_posix(), f.location.row, f.code) for f in result.findings]


def test_a_protocol_base_class_of_another_module_puts_the_callbacks_on_the_loop(
    tmp_path: Path,
) -> None:
    write(tmp_path, PROTOCOLS)
    assert lint_codes(tmp_path) == ON_LOOP
    assert lint_codes(tmp_path, "pkg/proto.py") == ON_LOOP  # what pre-commit passes
    assert lint_codes(tmp_path, select=("AC101",)) == [f for f in ON_LOOP if f[2] == "AC101"]
    write(tmp_path, {f"pkg/m{i}.py": "async def f():\n    pass\n" for i in range(20)})
    assert lint_codes(tmp_path, jobs=2) == ON_LOOP


def test_the_callback_findings_keep_their_sync_advice_and_chain(tmp_path: Path) -> None:
    write(tmp_path, PROTOCOLS)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run(["pkg/proto.py"], Config(root=str(tmp_path)), RunOptions(use_cache=False))
    finally:
        os.chdir(here)
    sleep, chain = [f for f in result.findings if f.location.row in (10, 11)]
    assert sleep.message.endswith("schedule what follows with loop.call_later()")
    assert sleep.fix is None and sleep.source_line == "        time.sleep(1)"
    assert chain.message.startswith("store.flush() -> time.sleep() blocks the event loop;")
    assert "run_in_executor" in chain.message


def test_a_base_that_stops_being_a_protocol_takes_the_findings_away(tmp_path: Path) -> None:
    write(tmp_path, PROTOCOLS)
    assert lint_codes(tmp_path, "pkg/proto.py", cache=True) == ON_LOOP
    base = tmp_path / "pkg/base.py"
    base.write_text(base.read_text().replace("(asyncio.BufferedProtocol)", "(object)"))
    assert lint_codes(tmp_path, "pkg/proto.py", cache=True) == []
    base.write_text(base.read_text().replace("(object)", "(asyncio.Protocol)"))
    assert lint_codes(tmp_path, "pkg/proto.py", cache=True) == ON_LOOP


def test_without_the_project_an_imported_base_decides_nothing() -> None:
    from asynccheck.lint.api import lint_source

    source = textwrap.dedent(PROTOCOLS["pkg/proto.py"])
    assert lint_source(source, select=["AC1"], path="pkg/proto.py") == []


# -- modules summarised for some names only (lint.project.skim) -------------------------------
ROUND_TRIP = {
    "app/__init__.py": "",
    "app/a.py": """
        from app.b import entry

        async def handler():
            entry()
    """,
    "app/b.py": """
        from app import c

        def entry():
            c.middle()

        def later():
            open("x").close()

        def unrelated():
            pass
    """,
    "app/c.py": """
        from app import b

        def middle():
            b.later()
    """,
}


def test_a_name_left_out_of_a_summary_and_read_later_is_summarised_again(
    tmp_path: Path, checked: list[str], steps: list[ProjectStep]
) -> None:
    """b is summarised for `entry`, which does not name `later`; the chain comes back into
    b for it through c: b is summarised again, with both, and the chain is whole."""
    write(tmp_path, ROUND_TRIP)
    chain = ("app/a.py", 5, "b.entry() -> c.middle() -> b.later() -> open()")
    assert lint(tmp_path, "app/a.py", cache=True) == [chain]
    assert checked == ["a.py", "app.b", "app.c", "app.b"]
    assert steps[-1].counts["summarised"] == 3
    checked.clear()
    assert lint(tmp_path, "app/a.py", cache=True) == [chain]
    assert checked == []


def test_a_stored_summary_without_a_name_now_wanted_is_made_again(
    tmp_path: Path, checked: list[str]
) -> None:
    write(tmp_path, ROUND_TRIP)
    assert lint(tmp_path, "app/a.py", cache=True) != []
    write(tmp_path, {"app/d.py": "from app import b\n\nasync def go():\n    b.unrelated()\n"})
    (tmp_path / "app/b.py").write_text(
        (tmp_path / "app/b.py").read_text().replace("pass", "open('y')")
    )
    checked.clear()
    found = lint(tmp_path, "app/a.py", "app/d.py", cache=True)
    assert ("app/d.py", 4, "b.unrelated() -> open()") in found
    assert len(found) == 2
    checked.clear()  # the summary stored last has all three names
    assert lint(tmp_path, "app/a.py", "app/d.py", cache=True) == found and checked == []


METHOD_ROUND = {
    "app/__init__.py": "",
    "app/a.py": """
        from app.store import entry

        async def handler():
            entry(None)
    """,
    "app/store.py": """
        import time


        def entry(store: "Store"):
            store.write()


        class Store:
            def __init__(self, path):
                self.path = path

            def write(self):
                open(self.path, "w").close()

            def unrelated(self):
                time.sleep(1)
    """,
}


def test_a_method_left_out_of_a_summary_and_read_later_is_summarised_again(
    tmp_path: Path, checked: list[str], steps: list[ProjectStep], monkeypatch: pytest.MonkeyPatch
) -> None:
    """store is summarised for `entry`, whose text ties no def to `store.write()`; the
    graph reads `Store.write` and store is summarised again for it alone, joined to the
    first, with `unrelated` still left out; linting the whole tree gives the same chain."""
    wanted: list[Any] = []
    summary_of = Checker.summary_of

    def spy(self: Checker, text: str, module: str, is_package: bool, names: Any = None) -> Any:
        wanted.append(sorted(names) if names is not None else None)
        return summary_of(self, text, module, is_package, names)

    monkeypatch.setattr(Checker, "summary_of", spy)
    write(tmp_path, METHOD_ROUND)
    chain = ("app/a.py", 5, "store.entry() -> store.Store.write() -> open()")
    assert lint(tmp_path, "app/a.py") == [chain]
    assert wanted == [["entry"], ["Store.write"]]
    store = steps[-1].store
    known, summary = store.summary(str(tmp_path / "app/store.py"))
    assert known and summary is not None
    assert "Store.unrelated" in summary.elided and summary.covers(("Store.write",))
    assert [f for f in lint(tmp_path, ".") if f[0] == "app/a.py"] == [chain]


MIXED_BASES = {
    "pkg/__init__.py": "",
    "pkg/base.py": """
        import asyncio

        import outside

        class BaseProto(asyncio.Protocol):
            pass

        class Mixed(outside.Mixin, BaseProto):  # an outside base first
            pass

        class NotOne(outside.Mixin):
            pass
    """,
    "pkg/proto.py": """
        import time

        import outside
        from pkg.base import BaseProto, Mixed, NotOne

        class ViaMixed(Mixed):
            def data_received(self, data):
                time.sleep(1)

        class OutsideFirst(outside.Mixin, BaseProto):
            def data_received(self, data):
                time.sleep(1)

        class Neither(NotOne):
            def data_received(self, data):
                time.sleep(1)
    """,
}


def test_a_protocol_base_behind_an_outside_base_still_makes_a_protocol(tmp_path: Path) -> None:
    """A method is looked up in the bases in order, and stops at a base from outside the
    project (it may define the method); being a protocol is not: any base decides it."""
    write(tmp_path, MIXED_BASES)
    assert lint_codes(tmp_path, "pkg/proto.py") == [
        ("pkg/proto.py", 9, "AC101"),
        ("pkg/proto.py", 13, "AC101"),
    ]
