"""Deferred imports: a lazily imported module must look like a normally imported one."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(tmp_path, body: str) -> str:
    (tmp_path / "slowmod.py").write_text("LOADED = True\nVALUE = 42\n", encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from asynccheck._lazy import lazy_module
        """
    ) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_module_runs_on_first_attribute_access_only(tmp_path):
    out = _run(
        tmp_path,
        """
        module = lazy_module("slowmod")
        print(type(module).__name__)
        print(module.VALUE)
        import slowmod
        print(slowmod is module)
        """,
    )
    assert out.split() == ["_LazyModule", "42", "True"]


def test_its_spec_says_initialized_like_a_normal_import(tmp_path):
    # Without the flag, every later `import slowmod` raises and drops an AttributeError
    # inside CPython; libcst's native parser imports libcst once per node it builds.
    out = _run(
        tmp_path,
        """
        module = lazy_module("slowmod")
        module.VALUE
        print(sys.modules["slowmod"].__spec__._initializing)
        """,
    )
    assert out.strip() == "False"
