"""The server's end-to-end tests run where pytest-lsp does (Python 3.10+); the server itself
also runs on 3.9 (bench/lsp_latency.py starts it with any interpreter)."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("pytest_lsp") is None:
    collect_ignore_glob = ["test_*.py"]
else:
    from tests.server.lsp import broken_client, client, configured_client, folder  # noqa: F401
