"""Small helpers shared by the text and HTML renderers."""

from __future__ import annotations

import linecache
import os

from asynccheck.runtime.sites import Site


def short_path(path: str) -> str:
    """A path relative to the working directory when it is under it, else as it is."""
    if path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def where(site: Site) -> str:
    return f"{short_path(site.file)}:{site.line} in {site.function}"


def source_line(site: Site) -> str:
    return linecache.getline(site.file, site.line).rstrip() if site.line > 0 else ""


def source_lines(site: Site, around: int = 2) -> list[tuple[int, str]]:
    """(line number, text) for the lines around `site`, for a code excerpt."""
    if site.line <= 0:
        return []
    out = []
    for n in range(max(1, site.line - around), site.line + around + 1):
        text = linecache.getline(site.file, n)
        if not text and n > site.line:
            break
        out.append((n, text.rstrip("\n")))
    return out


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.2f} s"
