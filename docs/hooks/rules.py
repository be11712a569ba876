"""mkdocs hook: the rules section is generated from the rule registry at build time.

`rules/index.md` and one `rules/<CODE>.md` a rule exist only in the build (nothing is
written to docs/), the nav gets one section a rule family, and the configuration page lists
the rules that read each key. A rule registered in asynccheck/rules/ is documented by the
next build without any edit here.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

from mkdocs.structure.files import File, Files

if TYPE_CHECKING:
    from asynccheck.rules.base import Rule

RULES_SECTION = "Rules"
# `<!-- rules-reading: blocking-calls -->` in a page becomes links to the rules reading the key.
_READERS = re.compile(r"<!-- rules-reading: ([\w-]+) -->")


_rules: list[type[Rule]] = []


def _load_rules() -> list[type[Rule]]:
    """The registered rules, imported afresh: `mkdocs serve` re-runs this hook on every
    rebuild but keeps the modules it imported, so an edited rule would not show."""
    for name in [n for n in sys.modules if n == "asynccheck" or n.startswith("asynccheck.")]:
        del sys.modules[name]
    from asynccheck.rules import REGISTRY

    return list(REGISTRY.values())


def on_config(config: Any) -> Any:
    """Fill the nav's "Rules" section: the index first, then one sub-section a family."""
    from asynccheck.rule_docs import rules_nav

    _rules[:] = _load_rules()
    for entry in config.nav or ():
        if isinstance(entry, dict) and RULES_SECTION in entry:
            entry[RULES_SECTION] = ["rules/index.md", *rules_nav(_rules)]
            break
    return config


def on_files(files: Files, config: Any) -> Files:
    from asynccheck.rule_docs import site_pages

    for path, text in site_pages(_rules).items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    from asynccheck.rule_docs import rules_reading

    return _READERS.sub(lambda m: rules_reading(m.group(1), _rules), markdown)
