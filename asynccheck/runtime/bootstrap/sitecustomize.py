"""asynccheck's start-up hook for the Python processes a profiled program starts.

`asynccheck profile` puts this directory first on PYTHONPATH, so every child interpreter
imports this file at start-up (site.py imports `sitecustomize`). With asynccheck's environment
variable set, the child is monitored from the moment it imports asyncio (there is nothing to
watch before, and a child that never does, a helper script, pays nothing but this file) for
the rest of the process, and writes its report at exit (asynccheck/runtime/children.py,
`start_child`). Either way this file then runs the `sitecustomize` it hides, if the user has
one, as site.py would have, and takes this directory off sys.path.

Any Python started with this PYTHONPATH reads this file, whatever its version: the syntax stays
plain, and nothing happens below Python 3.9.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ENV_VAR = "ASYNCCHECK_PROFILE_CHILDREN"  # children.ENV_VAR


def _start():
    if not os.environ.get(_ENV_VAR) or sys.version_info < (3, 9):
        return
    import atexit

    atexit.register(_at_exit)  # first, so it runs after all of the program's own
    if "asyncio" in sys.modules:
        _start_now()
    else:
        sys.meta_path.insert(0, _WhenAsyncioLoads())


def _start_now():
    try:
        from asynccheck.runtime.children import start_child
    except ImportError:
        # An interpreter without asynccheck installed (another virtualenv of the same Python):
        # use the copy that started the parent, without leaving it on sys.path.
        root = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
        sys.path.append(root)
        try:
            from asynccheck.runtime.children import start_child
        except ImportError:
            return
        finally:
            sys.path.remove(root)
    try:
        start_child()
    except Exception as error:  # a child must run even when asynccheck cannot watch it
        message = "asynccheck: not monitoring process %d: %r\n" % (os.getpid(), error)  # noqa: UP031
        sys.stderr.write(message)


def _at_exit():
    children = sys.modules.get("asynccheck.runtime.children")
    if children is not None:
        children.child_at_exit()


class _WhenAsyncioLoads:
    """A finder that finds nothing itself: it lets the next finder find `asyncio`, and starts
    monitoring right after asyncio's own code has run."""

    def find_spec(self, name, path=None, target=None):
        if name != "asyncio":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_start(module):
            exec_module(module)
            _start_now()

        loader.exec_module = exec_then_start  # this load's loader only
        return spec


def _unhide_sitecustomize():
    """Run the next `sitecustomize` on sys.path (the one this file hides) in our place."""
    if sys.version_info < (3, 5):  # noqa: UP036 - any Python may read this file
        return
    import importlib.machinery
    import importlib.util

    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module  # what `import sitecustomize` gives from now on
    spec.loader.exec_module(module)


def _leave_sys_path():
    for i, entry in enumerate(sys.path):
        if os.path.abspath(entry or os.curdir) == _HERE:
            del sys.path[i]
            return


_start()
_leave_sys_path()
_unhide_sitecustomize()
