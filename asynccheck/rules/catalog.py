"""Data tables: which calls block, which constructors make which objects, which methods block.

Everything here is data. Names are fully qualified after import resolution; builtins are
spelled `builtins.open`. Types are short keys (`file`, `socket`, ...) shared by the tables.
Extend a table, not an if-chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Optional


def _expand(code: str, prefix: str, names: Iterable[str]) -> dict[str, str]:
    return {f"{prefix}.{name}": code for name in names}


_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_OS_FILE_CALLS = (
    "remove", "unlink", "rename", "renames", "replace", "makedirs", "mkdir", "rmdir",
    "removedirs", "listdir", "scandir", "walk", "stat", "lstat", "chmod", "chown", "truncate",
    "link", "symlink", "utime",
)  # fmt: skip
_OS_PATH_CALLS = (
    "exists", "lexists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime",
    "getatime", "getctime", "samefile", "sameopenfile", "realpath",
)  # fmt: skip
_SHUTIL_CALLS = (
    "copy", "copy2", "copyfile", "copyfileobj", "copytree", "move", "rmtree",
    "make_archive", "unpack_archive",
)  # fmt: skip
_OS_PROCESS_CALLS = (
    "system", "popen", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve",
    "spawnvp", "spawnvpe", "wait", "wait3", "wait4", "waitid", "waitpid", "posix_spawn",
    "posix_spawnp",
)  # fmt: skip
_SUBPROCESS_CALLS = (
    "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput", "Popen",
)  # fmt: skip

# Fully qualified function -> rule code, for calls made directly inside `async def`.
BLOCKING_CALLS: Mapping[str, str] = {
    "time.sleep": "AC101",
    # AC102 HTTP
    **_expand("AC102", "requests", (*_HTTP_VERBS, "Session", "session")),
    **_expand("AC102", "requests.api", _HTTP_VERBS),
    "urllib.request.urlopen": "AC102",
    "urllib.request.urlretrieve": "AC102",
    "urllib3.request": "AC102",
    "http.client.HTTPConnection": "AC102",
    "http.client.HTTPSConnection": "AC102",
    **_expand("AC102", "httpx", (*_HTTP_VERBS, "stream", "Client")),
    **_expand("AC102", "httpx2", (*_HTTP_VERBS, "stream", "Client")),
    # AC103 processes
    **_expand("AC103", "subprocess", _SUBPROCESS_CALLS),
    **_expand("AC103", "os", _OS_PROCESS_CALLS),
    # AC104 files
    "builtins.open": "AC104",
    "io.open": "AC104",
    "io.open_code": "AC104",
    "codecs.open": "AC104",
    **_expand("AC104", "os", _OS_FILE_CALLS),
    **_expand("AC104", "os.path", _OS_PATH_CALLS),
    **_expand("AC104", "shutil", _SHUTIL_CALLS),
    **{f"{module}.open": "AC104" for module in ("gzip", "bz2", "lzma", "tarfile", "shelve", "dbm")},
    "zipfile.ZipFile": "AC104",
    "glob.glob": "AC104",
    "glob.iglob": "AC104",
    # AC105 sockets and DNS
    **_expand(
        "AC105",
        "socket",
        (
            "create_connection",
            "getaddrinfo",
            "gethostbyname",
            "gethostbyname_ex",
            "gethostbyaddr",
            "getfqdn",
            "getnameinfo",
        ),
    ),
    # AC106 databases
    "sqlite3.connect": "AC106",
    "psycopg2.connect": "AC106",
    "psycopg.connect": "AC106",
    "psycopg.Connection.connect": "AC106",
    "pymysql.connect": "AC106",
    "MySQLdb.connect": "AC106",
    "mysql.connector.connect": "AC106",
    "pymongo.MongoClient": "AC106",
    "redis.Redis": "AC106",
    "redis.StrictRedis": "AC106",
    "redis.from_url": "AC106",
    "redis.Redis.from_url": "AC106",
    "cx_Oracle.connect": "AC106",
    "oracledb.connect": "AC106",
    "boto3.client": "AC106",
    "boto3.resource": "AC106",
    # AC107 input
    "builtins.input": "AC107",
    "sys.stdin.read": "AC107",
    "sys.stdin.readline": "AC107",
    "sys.stdin.readlines": "AC107",
    "getpass.getpass": "AC107",
    # AC108 waiting on threads and processes
    "concurrent.futures.wait": "AC108",
    "concurrent.futures.as_completed": "AC108",
}

# Fully qualified constructor (or factory) -> the type key of what it returns.
CONSTRUCTORS: Mapping[str, str] = {
    "builtins.open": "file",
    "io.open": "file",
    "os.fdopen": "file",
    "codecs.open": "file",
    "pathlib.Path": "path",
    "pathlib.PosixPath": "path",
    "pathlib.WindowsPath": "path",
    "pathlib.Path.cwd": "path",
    "pathlib.Path.home": "path",
    "socket.socket": "socket",
    "socket.create_connection": "socket",
    "socket.create_server": "socket",
    "ssl.wrap_socket": "ssl-socket",
    "ssl.create_default_context": "ssl-context",
    "ssl.SSLContext": "ssl-context",
    "requests.Session": "requests-session",
    "requests.session": "requests-session",
    "httpx.Client": "httpx-client",
    "httpx2.Client": "httpx-client",
    "urllib3.PoolManager": "urllib3-pool",
    "urllib3.ProxyManager": "urllib3-pool",
    "urllib3.HTTPConnectionPool": "urllib3-pool",
    "urllib3.HTTPSConnectionPool": "urllib3-pool",
    "urllib3.connection_from_url": "urllib3-pool",
    "urllib3.poolmanager.PoolManager": "urllib3-pool",
    "http.client.HTTPConnection": "http-connection",
    "http.client.HTTPSConnection": "http-connection",
    "subprocess.Popen": "popen",
    "sqlite3.connect": "db-connection",
    "psycopg2.connect": "db-connection",
    "psycopg.connect": "db-connection",
    "pymysql.connect": "db-connection",
    "MySQLdb.connect": "db-connection",
    "mysql.connector.connect": "db-connection",
    "threading.Lock": "thread-lock",
    "threading.RLock": "thread-lock",
    "threading.Semaphore": "thread-lock",
    "threading.BoundedSemaphore": "thread-lock",
    "threading.Condition": "thread-lock",
    "threading.Event": "thread-event",
    "threading.Barrier": "thread-event",
    "threading.Thread": "thread",
    "queue.Queue": "thread-queue",
    "queue.LifoQueue": "thread-queue",
    "queue.PriorityQueue": "thread-queue",
    "queue.SimpleQueue": "thread-queue",
    "multiprocessing.Queue": "thread-queue",
    "multiprocessing.JoinableQueue": "thread-queue",
    "multiprocessing.Process": "thread",
    "multiprocessing.Pool": "process-pool",
    "multiprocessing.pool.Pool": "process-pool",
    "multiprocessing.pool.ThreadPool": "process-pool",
    "concurrent.futures.ThreadPoolExecutor": "executor",
    "concurrent.futures.ProcessPoolExecutor": "executor",
    # a concurrent.futures.Future: `.result()` on the loop's thread waits for the loop itself
    "asyncio.run_coroutine_threadsafe": "future",
}

# Constructors whose result has another type when an argument is given:
# name -> (position of the argument, its keyword, the type key when it is given and not 0).
SIZED_CONSTRUCTORS: Mapping[str, tuple[int, str, str]] = {
    name: (0, "maxsize", "bounded-queue")
    for name in ("queue.Queue", "queue.LifoQueue", "queue.PriorityQueue",
                 "multiprocessing.Queue", "multiprocessing.JoinableQueue")
}  # fmt: skip

# Calls that return at once when an argument carries a flag: name -> (position of the
# argument, its keyword, the flag). `os.waitpid(pid, os.WNOHANG)` does not wait;
# `getaddrinfo(h, p, flags=AI_NUMERICHOST)` parses an address without asking DNS.
NO_WAIT_FLAGS: Mapping[str, tuple[int, str, str]] = {
    "os.waitpid": (1, "options", "WNOHANG"),
    "os.wait3": (0, "options", "WNOHANG"),
    "os.wait4": (1, "options", "WNOHANG"),
    "os.waitid": (2, "options", "WNOHANG"),
    "socket.getaddrinfo": (5, "flags", "AI_NUMERICHOST"),
}

# Connections to an in-memory database touch no file or socket: name -> (position of the
# database argument, its keyword). `sqlite3.connect(":memory:")` is neither blocking nor a
# "db-connection" whose queries wait on a disk.
IN_MEMORY_DATABASES: Mapping[str, tuple[int, str]] = {"sqlite3.connect": (0, "database")}
IN_MEMORY_MARKERS = (":memory:", "mode=memory")
# Archive and compression openers given a buffer in memory for their file (`tarfile.open(
# fileobj=io.BytesIO(data))`) read no disk: (position, keyword) of that file argument.
IN_MEMORY_FILE_ARGUMENTS: Mapping[str, tuple[int, str]] = {
    "tarfile.open": (2, "fileobj"),
    "zipfile.ZipFile": (0, "file"),
    **{f"{module}.open": (0, "filename") for module in ("gzip", "bz2", "lzma")},
}
IN_MEMORY_BUFFERS = frozenset(("io.BytesIO", "io.StringIO", "BytesIO", "StringIO"))

# (type key, method) -> type key of the result, for chains like `Path(p).open()`.
METHOD_RESULTS: Mapping[tuple[str, str], str] = {
    **{
        ("path", m): "path"
        for m in (
            "absolute",
            "resolve",
            "expanduser",
            "with_name",
            "with_suffix",
            "with_stem",
            "joinpath",
            "relative_to",
        )
    },
    ("path", "open"): "file",
    ("socket", "makefile"): "file",
    ("ssl-context", "wrap_socket"): "ssl-socket",
    ("executor", "submit"): "future",
    ("process-pool", "apply_async"): "async-result",
    ("process-pool", "map_async"): "async-result",
    ("process-pool", "starmap_async"): "async-result",
    ("db-connection", "cursor"): "db-cursor",
}

# (type key, attribute) -> type key, for `Path(__file__).parent`.
ATTRIBUTE_RESULTS: Mapping[tuple[str, str], str] = {
    ("path", "parent"): "path",
}

_FILE_METHODS = (
    "read",
    "readline",
    "readlines",
    "write",
    "writelines",
    "seek",
    "flush",
    "truncate",
)
# pathlib.Path methods that touch the file system (pure path arithmetic is not listed;
# `resolve` follows symlinks on disk, `absolute` only reads the working directory).
_PATH_METHODS = (
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "exists", "is_file",
    "is_dir", "is_symlink", "stat", "lstat", "unlink", "mkdir", "rmdir", "touch", "iterdir",
    "glob", "rglob", "rename", "replace", "chmod", "samefile", "readlink", "symlink_to",
    "resolve", "walk", "owner", "group", "is_mount", "hardlink_to", "lchmod", "copy",
    "copy_into", "move", "move_into",
)  # fmt: skip
_SOCKET_METHODS = (
    "connect", "connect_ex", "recv", "recv_into", "recvfrom", "recvfrom_into", "send",
    "sendall", "sendto", "sendfile", "accept",
)  # fmt: skip

ANY_METHOD = frozenset(("*",))

# type key -> (rule code, methods that block when called on such an object)
BLOCKING_METHODS: Mapping[str, tuple[str, frozenset[str]]] = {
    "file": ("AC104", frozenset(_FILE_METHODS)),
    "path": ("AC104", frozenset(_PATH_METHODS)),
    "socket": ("AC105", frozenset(_SOCKET_METHODS)),
    "ssl-socket": ("AC105", frozenset((*_SOCKET_METHODS, "do_handshake"))),
    "requests-session": ("AC102", frozenset((*_HTTP_VERBS, "send"))),
    "httpx-client": ("AC102", frozenset((*_HTTP_VERBS, "send", "stream", "close"))),
    "urllib3-pool": ("AC102", ANY_METHOD),  # RULES.md: any method of a pool receiver
    "http-connection": ("AC102", frozenset(("request", "getresponse", "connect"))),
    "popen": ("AC103", frozenset(("wait", "communicate"))),
    "db-connection": ("AC106", frozenset(("execute", "executemany", "executescript", "commit"))),
    "db-cursor": (
        "AC106",
        frozenset(("execute", "executemany", "fetchone", "fetchall", "fetchmany")),
    ),
    "thread-lock": ("AC108", frozenset(("acquire", "wait", "wait_for"))),
    "thread-event": ("AC108", frozenset(("wait",))),
    "thread": ("AC108", frozenset(("join",))),
    # put() only waits on a bounded queue; an unbounded Queue or a SimpleQueue never blocks it
    "thread-queue": ("AC108", frozenset(("get", "join"))),
    "bounded-queue": ("AC108", frozenset(("get", "put", "join"))),
    "process-pool": ("AC108", frozenset(("join", "map", "starmap", "apply"))),
    "async-result": ("AC108", frozenset(("get", "wait"))),
    "future": ("AC108", frozenset(("result", "exception"))),
    "executor": ("AC108", frozenset(("shutdown",))),
}

# Annotation (fully qualified) -> type key, for parameters like `fp: TextIO`.
ANNOTATION_TYPES: Mapping[str, str] = {
    "io.TextIOWrapper": "file",
    "io.BufferedReader": "file",
    "io.BufferedWriter": "file",
    "io.BufferedRandom": "file",
    "io.FileIO": "file",
    "typing.IO": "file",
    "typing.TextIO": "file",
    "typing.BinaryIO": "file",
    "typing_extensions.IO": "file",
    "pathlib.Path": "path",
    "pathlib.PosixPath": "path",
    "socket.socket": "socket",
    "ssl.SSLSocket": "ssl-socket",
    "requests.Session": "requests-session",
    "requests.sessions.Session": "requests-session",
    "httpx.Client": "httpx-client",
    "httpx2.Client": "httpx-client",
    "urllib3.PoolManager": "urllib3-pool",
    "urllib3.ProxyManager": "urllib3-pool",
    "urllib3.HTTPConnectionPool": "urllib3-pool",
    "urllib3.HTTPSConnectionPool": "urllib3-pool",
    "urllib3.connectionpool.ConnectionPool": "urllib3-pool",
    "urllib3.connectionpool.HTTPConnectionPool": "urllib3-pool",
    "urllib3.connectionpool.HTTPSConnectionPool": "urllib3-pool",
    "subprocess.Popen": "popen",
    "sqlite3.Connection": "db-connection",
    "sqlite3.Cursor": "db-cursor",
    "threading.Lock": "thread-lock",
    "threading.RLock": "thread-lock",
    "threading.Semaphore": "thread-lock",
    "threading.Condition": "thread-lock",
    "threading.Event": "thread-event",
    "threading.Thread": "thread",
    "queue.Queue": "thread-queue",
    "concurrent.futures.Future": "future",
    "concurrent.futures.Executor": "executor",
    "concurrent.futures.ThreadPoolExecutor": "executor",
    "concurrent.futures.ProcessPoolExecutor": "executor",
}

# Human names for type keys, used in messages when the receiver's source is too long.
TYPE_NAMES: Mapping[str, str] = {
    "file": "file object",
    "path": "pathlib.Path",
    "socket": "socket.socket",
    "ssl-socket": "ssl.SSLSocket",
    "requests-session": "requests.Session",
    "httpx-client": "httpx.Client",
    "urllib3-pool": "urllib3 pool",
    "http-connection": "http.client.HTTPConnection",
    "popen": "subprocess.Popen",
    "db-connection": "database connection",
    "db-cursor": "database cursor",
    "thread-lock": "threading lock",
    "thread-event": "threading.Event",
    "thread": "thread",
    "thread-queue": "queue.Queue",
    "bounded-queue": "queue.Queue",
    "process-pool": "multiprocessing pool",
    "async-result": "AsyncResult",
    "future": "concurrent.futures.Future",
    "executor": "executor",
}

# Calls that wrap a sync file in an async one: `await anyio.wrap_file(open(p))` is those
# libraries' own idiom, its reads and writes run in a thread (the open itself is not flagged).
ASYNC_FILE_WRAPPERS: frozenset[str] = frozenset(("anyio.wrap_file", "trio.wrap_file"))

# Calls that build a lazy iterator: the disk is read as it is consumed, not when it is made,
# so `await asyncio.to_thread(list, path.glob("*"))` reads in the thread.
LAZY_DISK_CALLS: frozenset[str] = frozenset(("os.walk", "glob.iglob"))
LAZY_PATH_METHODS: frozenset[str] = frozenset(("iterdir", "glob", "rglob", "walk"))
# ... unless the target version reads eagerly: Path.iterdir() lists the folder when called
# from 3.13 on.
EAGER_SINCE: Mapping[str, tuple[int, int]] = {"iterdir": (3, 13)}
# File methods that only touch the disk when a write is pending: `seek()` flushes the write
# buffer, and is a bare lseek on a file that was only read, or just flushed.
FLUSHING_METHODS: frozenset[str] = frozenset(("seek",))
FILE_WRITES: frozenset[str] = frozenset(("write", "writelines"))
# type key -> methods that tell the code a waiting method will return at once:
# `if fut.done(): fut.result()`, `while not q.empty(): q.get()`.
READINESS_CHECKS: Mapping[str, frozenset[str]] = {
    "future": frozenset(("done", "cancelled")),
    "thread-queue": frozenset(("empty", "qsize")),
    "bounded-queue": frozenset(("empty", "qsize", "full")),
}
# Ways a thread hands its result to the loop: on its last statement, the thread is done.
FUTURE_RESOLVERS: frozenset[str] = frozenset(("set_result", "set_exception"))

# Calls that run their callable argument off the event loop thread.
OFFLOADING_CALLS: frozenset[str] = frozenset(
    ("asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync")
)


def top_modules() -> frozenset[str]:
    """Modules whose unbound use in a snippet still counts (`subprocess.run` with no import)."""
    names = [*BLOCKING_CALLS, *CONSTRUCTORS, *ANNOTATION_TYPES]
    return frozenset(n.split(".", 1)[0] for n in names if not n.startswith("builtins."))


CATALOGUE_MODULES = top_modules()

# The methods that block on some receiver type; and the modules whose objects block in any
# method (`urllib3-pool`): a call of another method has no receiver type worth working
# out unless the file's text names one of those modules.
BLOCKING_METHOD_NAMES: frozenset[str] = frozenset(
    method
    for _, methods in BLOCKING_METHODS.values()
    if methods != ANY_METHOD
    for method in methods
)
ANY_METHOD_MODULES: frozenset[str] = frozenset(
    name.split(".", 1)[0]
    for table in (
        CONSTRUCTORS,
        ANNOTATION_TYPES,
        {n: t for n, (_, _, t) in SIZED_CONSTRUCTORS.items()},
    )
    for name, kind in table.items()
    if BLOCKING_METHODS.get(kind, ("", frozenset()))[1] == ANY_METHOD
)
KNOWN_NAMES: frozenset[str] = frozenset((*BLOCKING_CALLS, *CONSTRUCTORS, *ANNOTATION_TYPES))


# --- AC4xx–AC6xx: the asyncio names the task, timeout and loop rules look for --------------
def _asyncio(names: Iterable[str], *modules: str) -> frozenset[str]:
    """`asyncio.x` plus the submodule spellings (`asyncio.tasks.x`) the names live in."""
    return frozenset(f"{m}.{n}" for m in ("asyncio", *modules) for n in names)


# Calls that schedule a task and hand it back: the caller must keep the reference.
TASK_SPAWNERS: frozenset[str] = _asyncio(("create_task", "ensure_future"), "asyncio.tasks")
# Loop methods that schedule a task (`loop.create_task(...)`).
LOOP_TASK_METHODS: frozenset[str] = frozenset(("create_task",))
# Calls that return the event loop (a receiver of `create_task` is then a loop).
LOOP_GETTERS: frozenset[str] = _asyncio(
    ("get_event_loop", "get_running_loop", "new_event_loop"), "asyncio.events"
)
# Annotations that make a parameter an event loop.
LOOP_TYPES: frozenset[str] = _asyncio(
    ("AbstractEventLoop", "BaseEventLoop", "SelectorEventLoop", "ProactorEventLoop"),
    "asyncio.events",
    "asyncio.base_events",
)
# asyncio functions whose call returns an awaitable that does nothing until awaited (the
# gather future runs its children, but its result and exceptions are lost).
COROUTINE_FUNCTIONS: frozenset[str] = _asyncio(
    (
        "sleep", "wait_for", "wait", "gather", "open_connection", "open_unix_connection",
        "start_server", "start_unix_server", "to_thread", "create_subprocess_exec",
        "create_subprocess_shell",
    ),
    "asyncio.tasks", "asyncio.streams", "asyncio.threads", "asyncio.subprocess",
)  # fmt: skip
# Decorators that leave an `async def` a coroutine function; any other one may wrap it.
TRANSPARENT_DECORATORS: frozenset[str] = frozenset(
    (
        "staticmethod", "classmethod", "typing.overload", "typing_extensions.overload",
        "typing.override", "typing_extensions.override", "abc.abstractmethod",
        "functools.wraps",
    )
)  # fmt: skip
# Calls that start another event loop: wrong inside a coroutine, which already runs on one.
NESTED_LOOP_CALLS: frozenset[str] = _asyncio(
    ("run", "new_event_loop", "Runner"), "asyncio.runners", "asyncio.events"
) | frozenset(("uvloop.run", "uvloop.new_event_loop"))
NESTED_LOOP_METHODS: frozenset[str] = frozenset(("run_until_complete", "run_forever"))
GET_EVENT_LOOP: frozenset[str] = _asyncio(("get_event_loop",), "asyncio.events")
# Deprecated in 3.14, removed in 3.16: the policy system.
DEPRECATED_POLICY_CALLS: frozenset[str] = _asyncio(
    ("set_event_loop_policy", "get_event_loop_policy"), "asyncio.events"
)
DEPRECATED_POLICY_CLASSES: frozenset[str] = _asyncio(
    (
        "AbstractEventLoopPolicy", "DefaultEventLoopPolicy", "BaseDefaultEventLoopPolicy",
        "WindowsSelectorEventLoopPolicy", "WindowsProactorEventLoopPolicy",
    ),
    "asyncio.events", "asyncio.unix_events", "asyncio.windows_events",
)  # fmt: skip
# Sleeps that a polling loop waits with.
SLEEPS: frozenset[str] = _asyncio(("sleep",), "asyncio.tasks") | frozenset(("anyio.sleep",))
# What a loop that polls with each sleep should wait on instead (AC404 names the one the
# code uses: anyio code is told about anyio.Event). Anything else: asyncio's.
SLEEP_EVENTS: dict[str, str] = {"anyio.sleep": "anyio.Event"}
GATHER: frozenset[str] = _asyncio(("gather",), "asyncio.tasks")
AS_COMPLETED: frozenset[str] = _asyncio(("as_completed",), "asyncio.tasks")
# Calls that raise asyncio's TimeoutError when time runs out.
ASYNCIO_TIMEOUTS: frozenset[str] = _asyncio(
    ("wait_for", "timeout", "timeout_at"), "asyncio.tasks", "asyncio.timeouts"
) | frozenset(("async_timeout.timeout", "async_timeout.timeout_at"))
# Exceptions that are not asyncio's TimeoutError before Python 3.11 (3.10 for socket.timeout).
FOREIGN_TIMEOUT_ERRORS: Mapping[str, tuple[int, int]] = {
    "concurrent.futures.TimeoutError": (3, 11),
    "concurrent.futures._base.TimeoutError": (3, 11),
    "socket.timeout": (3, 11),
}
# What does catch asyncio's TimeoutError (on every version, or from 3.11 on for the builtin).
ASYNCIO_TIMEOUT_ERRORS: frozenset[str] = _asyncio(
    ("TimeoutError",), "asyncio.exceptions"
) | frozenset(("async_timeout.TimeoutError",))
# Waits that take a timeout (keyword, and position of the positional form; None = keyword only).
WAITS_WITH_TIMEOUT: Mapping[str, int | None] = {
    **{name: 1 for name in _asyncio(("wait_for",), "asyncio.tasks")},
    **{name: None for name in _asyncio(("wait",), "asyncio.tasks")},
    **{name: 0 for name in _asyncio(("timeout", "timeout_at"), "asyncio.timeouts")},
    "async_timeout.timeout": 0,
}
# Async HTTP clients: constructor -> whether leaving out `timeout=` is unbounded too
# (`timeout=None` always is).
HTTP_CLIENTS_TIMEOUT: Mapping[str, bool] = {
    "aiohttp.ClientSession": True,  # no timeout= means aiohttp's 300 s default
    "aiohttp.client.ClientSession": True,
    "httpx.AsyncClient": False,  # httpx defaults to 5 s; only timeout=None is unbounded
    "httpx2.AsyncClient": False,
}


# --- AC3xx: cancellation ---------------------------------------------------------------------
# The exception a cancelled task receives (asyncio's, not concurrent.futures').
CANCELLED_ERRORS: frozenset[str] = _asyncio(("CancelledError",), "asyncio.exceptions")
# Exceptions whose handlers also catch CancelledError (3.8+: no longer `Exception`).
BROAD_EXCEPTIONS: frozenset[str] = frozenset(("builtins.BaseException",))
# What protects an await in cleanup code from being cancelled or hanging.
SHIELDS: frozenset[str] = _asyncio(("shield", "wait_for"), "asyncio.tasks")
CLEANUP_TIMEOUTS: frozenset[str] = ASYNCIO_TIMEOUTS | frozenset(
    ("anyio.fail_after", "anyio.move_on_after", "anyio.CancelScope")
)
# Waits that a cancelled task is awaited through (`await asyncio.gather(*tasks)`).
TASK_WAITS: frozenset[str] = _asyncio(("gather", "wait", "wait_for"), "asyncio.tasks")


# --- AC2xx: async resources ------------------------------------------------------------------
# Constructor (or factory) of an async resource -> (kind, which part of the result must be
# closed: None for the result itself, 1 for the writer of `reader, writer = ...`).
# Kinds: "session", "pool" and "connector" pool connections (AC204 flags one per loop
# iteration); "connection", "file", "stream". Config `resource-types` adds names of kind
# "configured".
RESOURCE_TYPES: Mapping[str, tuple[str, Optional[int]]] = {
    "aiohttp.ClientSession": ("session", None),
    "aiohttp.client.ClientSession": ("session", None),
    "aiohttp.TCPConnector": ("connector", None),
    "aiohttp.connector.TCPConnector": ("connector", None),
    "httpx.AsyncClient": ("session", None),
    "httpx2.AsyncClient": ("session", None),
    "aiofiles.open": ("file", None),
    "asyncpg.connect": ("connection", None),
    "asyncpg.create_pool": ("pool", None),
    "aiosqlite.connect": ("connection", None),
    "redis.asyncio.Redis": ("session", None),
    "redis.asyncio.StrictRedis": ("session", None),
    "redis.asyncio.from_url": ("session", None),
    "redis.asyncio.Redis.from_url": ("session", None),
    "redis.asyncio.client.Redis": ("session", None),
    "motor.motor_asyncio.AsyncIOMotorClient": ("session", None),
    "websockets.connect": ("connection", None),
    "websockets.client.connect": ("connection", None),
    "websockets.asyncio.client.connect": ("connection", None),
    "asyncio.open_connection": ("stream", 1),
    "asyncio.streams.open_connection": ("stream", 1),
    "asyncio.open_unix_connection": ("stream", 1),
}
# Calls whose (awaited) result is their first argument's: `await asyncio.wait_for(make(), t)`
# hands back what `await make()` would (argument keyword, by name).
PASS_THROUGH_AWAITS: Mapping[str, str] = {
    **{name: "fut" for name in _asyncio(("wait_for",), "asyncio.tasks")},
    **{name: "arg" for name in _asyncio(("shield",), "asyncio.tasks")},
    # run to completion on a loop of their own: `con = asyncio.run(asyncpg.connect(d))`
    **{name: "main" for name in _asyncio(("run",), "asyncio.runners")},
}
# Loop methods that hand back their argument's result (any receiver: the loop is rarely a
# name the file imports): `con = loop.run_until_complete(asyncpg.connect(d))`.
PASS_THROUGH_METHODS: Mapping[str, str] = {"run_until_complete": "future"}
# Kinds that pool connections: one per loop iteration defeats the pooling (AC204).
POOLING_KINDS: frozenset[str] = frozenset(("session", "pool", "connector"))
# aiohttp sessions, made here or handed out by a framework (for AC203's responses).
AIOHTTP_SESSIONS: frozenset[str] = frozenset(
    (
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
        "homeassistant.helpers.aiohttp_client.async_get_clientsession",
        "homeassistant.helpers.aiohttp_client.async_create_clientsession",
    )
)
# Session methods whose awaited result is a response that holds a pooled connection.
AIOHTTP_REQUESTS: frozenset[str] = frozenset(
    ("get", "post", "put", "patch", "delete", "head", "options", "request")
)
# What releases an aiohttp response: release/close, or reading the body to the end.
RESPONSE_RELEASES: frozenset[str] = frozenset(
    ("release", "close", "text", "json", "read", "content", "__aexit__", "wait_for_close")
)
# Context managers that only work with `async with` (AC205).
ASYNC_ONLY_CONTEXT_MANAGERS: frozenset[str] = frozenset(
    (
        # (not streams, and not motor's client: neither is a context manager of any kind)
        *(
            name
            for name, (kind, _) in RESOURCE_TYPES.items()
            if kind != "stream" and not name.startswith("motor.")
        ),
        *_asyncio(
            ("Lock", "Semaphore", "BoundedSemaphore", "Condition", "TaskGroup"),
            "asyncio.locks",
            "asyncio.taskgroups",
        ),
        *_asyncio(("timeout", "timeout_at"), "asyncio.timeouts"),
        "async_timeout.timeout",
        "async_timeout.timeout_at",
        "anyio.create_task_group",
    )
)


# --- AC402: asyncio objects whose methods return coroutines -----------------------------------
_LOCK_METHODS = frozenset(("acquire",))
# constructor -> the coroutine methods of what it builds (`lock.acquire()` without await)
ASYNCIO_COROUTINE_METHODS: Mapping[str, frozenset[str]] = {
    "asyncio.Lock": _LOCK_METHODS,
    "asyncio.Semaphore": _LOCK_METHODS,
    "asyncio.BoundedSemaphore": _LOCK_METHODS,
    "asyncio.Condition": frozenset(("acquire", "wait", "wait_for")),
    "asyncio.Event": frozenset(("wait",)),
    "asyncio.Barrier": frozenset(("wait", "abort")),
    **{
        f"asyncio.{queue}": frozenset(("get", "put", "join"))
        for queue in ("Queue", "PriorityQueue", "LifoQueue")
    },
}
