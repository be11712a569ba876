"""The project around the linted files: which module is which file (`index`), what each
module's plain functions do (`summary`, built by `summarise` from the one walk per file),
and the chains that lead from a call to a blocking call across modules (`graph`).

Per-file rules never import this package's state; the engine runs the project step after
the files are checked (`resolve`), so a rule stays a function of one file.
"""
