"""mkdocs hook: the rules section is generated from the rule registry at build time.

`rules/index.md` and one `rules/<CODE>.md` a rule exist only in the build (nothing is
written to docs/), the nav gets one section a rule family, and the configuration page lists
the rules that read each key. A rule registered in asynccheck/rules/ is documented by the
next build without any edit here.
"""

from __future__ import annotations

import re
from typing import Any

from mkdocs.structure.files import File, Files

from asynccheck.rules import REGISTRY
from asynccheck.rules.docs import rules_nav, rules_reading, site_pages

RULES_SECTION = "Rules"
# `<!-- rules-reading: blocking-calls -->` in a page becomes links to the rules reading the key.
_READERS = re.compile(r"<!-- rules-reading: ([\w-]+) -->")


def on_config(config: Any) -> Any:
    """Fill the nav's "Rules" section: the index first, then one sub-section a family."""
    for entry in config.nav or ():
        if isinstance(entry, dict) and RULES_SECTION in entry:
            entry[RULES_SECTION] = ["rules/index.md", *rules_nav(REGISTRY.values())]
            break
    return config


def on_files(files: Files, config: Any) -> Files:
    for path, text in site_pages(REGISTRY.values()).items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return _READERS.sub(lambda m: rules_reading(m.group(1), REGISTRY.values()), markdown)
