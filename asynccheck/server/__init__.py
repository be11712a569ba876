"""`asynccheck server`: the language server editors run (LSP over stdio, on pygls).

A thin session over the library, as `ruff server` is over ruff: the same engine, the same
nearest-configuration lookup and the same findings as `asynccheck lint`, on the unsaved text.
Nothing outside this package imports it; pygls is imported only when the server starts, so
the core install does not need it (`pip install "asynccheck[server]"` brings it).
"""
