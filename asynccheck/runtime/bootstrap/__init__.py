"""The directory `asynccheck profile` puts first on its program's PYTHONPATH (children.py).

Only `sitecustomize.py` lives here: every Python process the profiled program starts imports it
at startup. This file exists so that the directory is packaged with asynccheck.
"""
