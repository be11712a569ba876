"""A lint run: discover files, take what the cache still knows, lint the rest in worker
processes, fix if asked, and return findings in a deterministic order."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.config import Config
from asynccheck.config_finder import ConfigFinder
from asynccheck.globs import ignored_for_file
from asynccheck.lint.cache import Cache, Entry, content_hash
from asynccheck.lint.discovery import Discovered, discover
from asynccheck.lint.finding import Finding, Position
from asynccheck.lint.listings import Listings

if TYPE_CHECKING:
    from asynccheck.lint.checker import Checker
    from asynccheck.lint.prefork import Prefork
    from asynccheck.lint.project.candidates import Candidate, Unplaced
    from asynccheck.lint.project.step import (
        Deps,
        PlaceFindings,
        ProjectStep,
        Summarised,
        SummarisePaths,
        SummaryWanted,
    )
    from asynccheck.lint.project.summary import ModuleSummary

# Below this many files to lint, worker processes cost more than they save.
_PARALLEL_THRESHOLD = 16
_PROGRESS_THRESHOLD = 200


@dataclass(frozen=True)
class RunOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False  # show what --fix would change, change nothing
    jobs: Optional[int] = None  # None: one per CPU
    use_cache: bool = True
    progress: bool = False  # draw a progress bar on stderr (the CLI sets it for terminals)
    force_exclude: bool = False  # apply excludes to files named on the command line too
    project: bool = True  # follow AC110 into the project's other modules (lint.project)
    # import libcst and the rules in a worker forked as a cached run starts (lint.prefork);
    # the CLI sets it: a program that lints through the API may not want a fork
    prefork: bool = False

    @property
    def fixing(self) -> bool:
        return self.fix or self.diff


@dataclass(frozen=True)
class FileOutcome:
    path: str
    findings: tuple[Finding, ...]
    fixed: int = 0
    diff: str = ""
    entry: Optional[Entry] = None  # what the cache should remember
    # The project step's share (lint.project): the file's cross-module questions, and its
    # summary, made from the same parse.
    candidates: tuple[Candidate, ...] = ()
    summarised: Optional[Summarised] = None


@dataclass(frozen=True)
class RunResult:
    findings: tuple[Finding, ...]
    files_checked: int
    fixed: int = 0
    diffs: tuple[str, ...] = ()
    skipped_folders: tuple[tuple[str, str], ...] = field(default=())


def unreadable(path: str, reason: str) -> Finding:
    where = Position(1, 1)
    return Finding("AC002", f"cannot read file: {reason}", path, where, where)


# --- one file (runs in a worker process) ---------------------------------------------------
_CHECKER: Optional[Checker] = None
_OPTIONS = RunOptions()


def _init_worker(checker: Checker, options: RunOptions) -> None:
    global _CHECKER, _OPTIONS
    _CHECKER, _OPTIONS = checker, options


def lint_file(path: str) -> FileOutcome:
    """Read, decode, check (and fix) one file. Never raises for bad input."""
    from asynccheck.lint.source import decode

    checker = _CHECKER
    assert checker is not None
    try:
        stat, data = _read(path)
    except OSError as error:
        return FileOutcome(path, (unreadable(path, error.strerror or str(error)),))
    decoded = decode(data)
    if decoded.text is None:
        findings: tuple[Finding, ...] = ()
        if "AC002" in checker.codes:
            findings = (unreadable(path, decoded.error or "cannot decode"),)
        return FileOutcome(path, findings, entry=_entry(stat, data, findings))
    if _OPTIONS.fixing:
        return _fix_file(path, stat, data, decoded.text, decoded.encoding, checker)
    from asynccheck.lint.project.candidates import split
    from asynccheck.lint.project.index import module_of_path

    module = (module_of_path(path)[0] or None) if _OPTIONS.project else None
    is_package = os.path.basename(path) == "__init__.py"
    # questions are placed once answered, from the file (few are: lint.project.candidates)
    checked, summary = checker.check_in_project(
        path, decoded.text, module, is_package, place_questions=False
    )
    findings, candidates = split(checked)
    entry = _entry(stat, data, tuple(findings))
    summarised = (path, stat.st_mtime_ns, stat.st_size, entry.digest, summary) if summary else None
    return FileOutcome(
        path, tuple(findings), entry=entry, candidates=tuple(candidates), summarised=summarised
    )


def summarise_file(item: SummaryWanted) -> Summarised:
    """A module the linted files reach but do not name: its summary alone (one parse), for
    the names wanted from it (None: all)."""
    from asynccheck.lint.source import decode

    path, module, wanted = item
    assert _CHECKER is not None
    try:
        stat, data = _read(path)
    except OSError:
        return (path, 0, 0, b"", None)
    text = decode(data).text
    is_package = os.path.basename(path) == "__init__.py"
    summary = _CHECKER.summary_of(text, module, is_package, wanted) if text is not None else None
    return (path, stat.st_mtime_ns, stat.st_size, content_hash(data), summary)


def _read(path: str) -> tuple[os.stat_result, bytes]:
    stat = os.stat(path)
    with open(path, "rb") as f:
        return stat, f.read()


def _entry(stat: os.stat_result, data: bytes, findings: tuple[Finding, ...]) -> Entry:
    return Entry(
        stat.st_mtime_ns, stat.st_size, content_hash(data), tuple(f.to_tuple() for f in findings)
    )


def _fix_file(
    path: str, stat: os.stat_result, data: bytes, text: str, encoding: str, checker: Checker
) -> FileOutcome:
    """Fix one file. Its findings are those of the text left on disk (the fixed one with
    --fix, the original with --diff), with AC110's cross-module questions and the summary
    the project step needs, as when nothing is fixed."""
    from asynccheck.lint.fix import fix_until_stable, unified_diff
    from asynccheck.lint.project.candidates import split
    from asynccheck.lint.project.index import module_of_path

    module = (module_of_path(path)[0] or None) if _OPTIONS.project else None
    is_package = os.path.basename(path) == "__init__.py"
    checks: list[tuple[list[Finding], Optional[ModuleSummary]]] = []  # first and last

    def check(t: str) -> list[Finding]:
        checks[1:] = [checker.check_in_project(path, t, module, is_package)]
        return checks[-1][0]

    outcome = fix_until_stable(text, check, unsafe=_OPTIONS.unsafe_fixes)
    written = _OPTIONS.fix and not _OPTIONS.diff and outcome.text != text
    found, summary = checks[-1] if written else checks[0]
    diff = ""
    if outcome.text != text and _OPTIONS.diff:
        diff = unified_diff(path, text, outcome.text)
    stamp: Optional[tuple[int, int, bytes]] = None
    if written:
        try:
            with open(path, "wb") as f:
                f.write(outcome.text.encode(encoding))
            after = os.stat(path)
            stamp = (after.st_mtime_ns, after.st_size, content_hash(outcome.text.encode(encoding)))
        except OSError as error:
            reason = f"cannot write the fixed file: {error.strerror or error}"
            found = [*found, unreadable(path, reason)]
    else:
        stamp = (stat.st_mtime_ns, stat.st_size, content_hash(data))
    findings, candidates = split(found)
    summarised = (path, *stamp, summary) if summary is not None and stamp is not None else None
    fixed = outcome.fixed if outcome.text != text else 0
    return FileOutcome(
        path, tuple(findings), fixed, diff, candidates=tuple(candidates), summarised=summarised
    )


# --- a run ---------------------------------------------------------------------------------
def run(
    paths: Sequence[str], config: Config | ConfigFinder, options: RunOptions = RunOptions()
) -> RunResult:
    """Lint `paths`, each file under the configuration nearest to it (`config` a finder), or
    all under one `config`. Raises discovery.PathError for a missing path, and
    config.ConfigError for a bad configuration file met on the way."""
    configs = config if isinstance(config, ConfigFinder) else ConfigFinder(override=config)
    prefork = _start_prefork(options)
    try:
        return _run(paths, configs, options, prefork)
    finally:
        if prefork is not None:
            prefork.stop()


def _run(
    paths: Sequence[str], configs: ConfigFinder, options: RunOptions, prefork: Optional[Prefork]
) -> RunResult:
    walked = tuple(os.path.abspath(path) for path in paths if os.path.isdir(path))
    listings = _listings(walked, configs, options)
    discovered = discover(
        paths, force_exclude=options.force_exclude, configs=configs, listings=listings
    )
    listings.save()
    outcomes: list[FileOutcome] = []
    findings: list[Finding] = []
    for group, files in _by_config(discovered, configs):
        group_outcomes, cached = _run_group(files, _Linter(group, options, prefork), walked)
        outcomes.extend(group_outcomes)
        findings.extend(f for f in cached if not _ignored_for_file(f, group))
    return RunResult(
        tuple(sorted(findings, key=Finding.sort_key)),
        len(discovered.files),
        sum(o.fixed for o in outcomes),
        tuple(o.diff for o in sorted(outcomes, key=lambda o: o.path) if o.diff),
        discovered.unreadable,
    )


def _listings(walked: Sequence[str], configs: ConfigFinder, options: RunOptions) -> Listings:
    """The folder listings, kept in the cache folder of the first folder walked (the walk
    reads its configuration anyway: a broken one elsewhere, in the current folder say, is
    not read); none for a run that walks no folder."""
    if not options.use_cache or not walked:
        return Listings(None)
    return Listings.open(configs.for_path(walked[0]).root or os.getcwd())


def _by_config(discovered: Discovered, configs: ConfigFinder) -> list[tuple[Config, list[str]]]:
    """Files grouped by the configuration that applies to each, in a stable order. The walk
    knows the configuration of every folder it entered; only files named on the command
    line are looked up (a warm run over Home Assistant's 11,000 files: 9 ms here, not 100)."""
    groups: dict[int, tuple[Config, list[str]]] = {}
    folder_configs = discovered.folder_configs
    last_folder, members = None, []  # sorted files: neighbours mostly share a folder
    for path in discovered.files:
        folder = path.rpartition(os.sep)[0]
        if folder != last_folder:
            config = folder_configs.get(folder) or configs.for_folder(folder or os.curdir)
            members = groups.setdefault(id(config), (config, []))[1]
            last_folder = folder
        members.append(path)
    return sorted(groups.values(), key=lambda group: group[0].root or "")


def _run_group(
    files: Sequence[str], linter: _Linter, walked: Sequence[str]
) -> tuple[list[FileOutcome], list[Finding]]:
    """Lint the files one configuration applies to, with that configuration's cache.

    The changed files are linted first: then their new summaries are known when the
    stored cross-module answers of the cached files are checked. A cache that is saved
    anyway leaves out the files that are gone (`walked`: the folders this run walked)."""
    config, options = linter.config, linter.options
    use_cache = options.use_cache and not options.fixing
    cache = Cache.open(config.root or os.getcwd() if use_cache else None, config.fingerprint())
    project = _project_step(files, config, cache)
    outcomes: list[FileOutcome] = []
    cached: list[Finding] = []
    linked: list[tuple[str, str, list[Finding]]] = []  # cached, with answers to check
    todo: list[tuple[int, str]] = []
    keys = _Keys(os.getcwd())
    seen = project.stats
    # The warm path: one stat and a few dict lookups a file (all of HA: 11,000 files).
    for path in files:
        try:
            stat = os.stat(path)
        except OSError as error:
            outcomes.append(FileOutcome(path, (unreadable(path, error.strerror or str(error)),)))
            continue
        if use_cache:
            key = keys.of(path)
            mtime_ns, size = seen[key] = (stat.st_mtime_ns, stat.st_size)
            found = cache.fresh(key, mtime_ns, size)
            if found is None and key in cache:
                found = _same_content(cache, key, path, stat)
            if found is not None:
                own: list[Finding] = []
                if not found[0] or _extend_findings(own, path, found[0]):
                    if found[1]:
                        linked.append((path, key, own))
                    elif own:
                        cached.extend(own)
                    continue
        todo.append((stat.st_size, path))
    todo.sort(key=lambda item: (-item[0], item[1]))  # big files first: better load balance

    def summarise_paths(items: Sequence[SummaryWanted]) -> Iterator[Summarised]:
        return linter.map(list(items), summarise_file) if items else iter(())

    stored = [(key, cache.links(key)) for _, key, _ in linked]  # their answers, as kept
    if todo:
        outcomes.extend(_lint_todo([p for _, p in todo], linter, cache, project, stored))
    if linked:
        again = _reuse_answers(linked, stored, project, cache, summarise_paths, cached)
        if again:
            outcomes.extend(_lint_todo(again, linter, cache, project))
    if project.asked:
        cached.extend(_answer(project, summarise_paths, linter.place, cache))
    if cache.dirty and cache.forget_gone(project.stats, walked):
        project.store.forget_gone()
    cache.save()
    project.store.save()
    cached.extend(f for o in outcomes for f in o.findings)
    return outcomes, cached


def _lint_todo(
    paths: list[str],
    linter: _Linter,
    cache: Cache,
    project: ProjectStep,
    stored: Sequence[tuple[str, Any]] = (),
) -> list[FileOutcome]:
    """Lint `paths`; while a worker lints them, load what learning and answering will
    read, and what checking the answers `stored` of the cached files will."""
    outcomes = []

    def prepare(done: Callable[[], bool]) -> None:
        project.prepare(paths, cache.dep_paths, stored, done)

    for outcome in linter.map(paths, lint_file, prepare):
        outcomes.append(outcome)
        summary = project.learn(outcome.summarised) if outcome.summarised is not None else None
        if outcome.entry is not None and cache.path is not None:
            outcome.entry.summary = summary
            cache.store(os.path.abspath(outcome.path), outcome.entry)
        if outcome.candidates:
            project.ask(outcome.path, outcome.candidates)
    return outcomes


# --- the project step (lint.project): cross-module AC110 --------------------------------------
def _project_step(files: Sequence[str], config: Config, cache: Cache) -> ProjectStep:
    from asynccheck.lint.project.step import ProjectStep
    from asynccheck.lint.project.store import SummaryStore

    folder = os.path.dirname(cache.path) if cache.path is not None else None
    step = ProjectStep(SummaryStore.open(folder, cache.key), files, config.root)
    step.cached_digest = cache.summary_digest
    return step


def _reuse_answers(
    linked: list[tuple[str, str, list[Finding]]],
    stored: list[tuple[str, Any]],
    project: ProjectStep,
    cache: Cache,
    summarise_paths: SummarisePaths,
    out: list[Finding],
) -> list[str]:
    """The cached files' cross-module answers (`stored`, as kept, in the order of `linked`),
    while what they read is the same (their own findings with them); otherwise their
    stored questions are asked again (no parse of the file). Returns the files to lint
    again: their questions are gone, or their entry is damaged."""
    again: list[str] = []
    verdicts = project.reuse(stored, cache.dep_paths, summarise_paths)
    for (path, key, own), verdict in zip(linked, verdicts):
        if verdict is False:
            again.append(path)
        elif verdict is None:
            entry = cache.get(key)
            if entry is not None and project.ask_again(path, key, entry.digest):
                out.extend(own)
            else:
                again.append(path)
        else:
            answers, deps = verdict
            if not _extend_findings(own, path, answers):
                again.append(path)
                continue
            out.extend(own)
            entry = cache.get(key) if deps is not None else None
            if entry is not None:
                entry.links = _links(cache, deps, answers)
                cache.store(key, entry)
    return again


def _links(cache: Cache, deps: Deps, answers: tuple[Any, ...]) -> tuple[Any, ...]:
    from asynccheck.lint.project.step import encode

    return (*encode(deps, cache.dep_index), answers)


def _answer(
    project: ProjectStep, summarise_paths: SummarisePaths, place: PlaceFindings, cache: Cache
) -> list[Finding]:
    found: list[Finding] = []
    for path, answer in project.answer(summarise_paths, place).items():
        found.extend(answer.findings)
        entry = cache.get(path) if cache.path is not None else None
        if entry is not None:
            project.keep(path, entry.digest, answer)
            entry.links = _links(cache, answer.deps, tuple(f.to_tuple() for f in answer.findings))
            cache.store(path, entry)
    return found


class _Keys:
    """The absolute path of a discovered file, cheaply: abspath normalizes (5 us a file)
    and even a join costs 1 us; a concatenation is enough for the paths discovery yields,
    unless one says `..`."""

    def __init__(self, cwd: str) -> None:
        self.prefix = os.path.join(cwd, "")

    def of(self, path: str) -> str:
        if ".." in path:
            return os.path.abspath(path)
        if os.path.isabs(path):
            return path
        return self.prefix + path


def _extend_findings(out: list[Finding], path: str, stored: tuple[Any, ...]) -> bool:
    """Append a cache entry's findings; False if they do not decode (a damaged store)."""
    if not stored:
        return True
    try:
        decoded = [Finding.from_tuple(path, t) for t in stored]
    except Exception:
        return False
    out.extend(decoded)
    return True


def _same_content(
    cache: Cache, key: str, path: str, stat: os.stat_result
) -> Optional[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """The file was touched: reuse its entry if its bytes did not change."""
    try:
        with open(path, "rb") as f:
            digest = content_hash(f.read())
    except OSError:
        return None
    entry = cache.by_content(key, digest)
    if entry is None:
        return None
    entry = Entry(
        stat.st_mtime_ns, stat.st_size, digest, entry.findings, entry.links, entry.summary
    )
    cache.store(key, entry)
    return entry.findings, entry.links


# what to do while the worker works, given a function that says when it is done
WhileWaiting = Callable[[Callable[[], bool]], None]


def _nothing(done: Callable[[], bool]) -> None:
    pass


@dataclass
class _Linter:
    """Runs `lint_file` or `summarise_file` over files with one configuration's checker: in
    the prefork worker while it is there and the batch is small, else in this process or a
    pool (`_lint_all`). The checker is only made when needed: a warm run needs no libcst."""

    config: Config
    options: RunOptions
    prefork: Optional[Prefork] = None
    _checker: Optional[Checker] = None

    def checker(self) -> Checker:
        if self._checker is None:
            from asynccheck.lint.checker import checker_for

            self._checker = checker_for(self.config)
        return self._checker

    def _worker(self) -> Optional[Prefork]:
        """The prefork worker while it can take work."""
        return self.prefork if self.prefork is not None and self.prefork.pid else None

    def map(
        self, items: list[Any], work: Any, while_waiting: WhileWaiting = _nothing
    ) -> Iterator[Any]:
        """`work` over `items`. Sent to the prefork worker, the work starts at once and
        `while_waiting` runs here meanwhile, given a function that says whether the
        worker is done (else the work runs as the iterator is read)."""
        worker = self._worker()
        if worker is not None:
            if len(items) < _PARALLEL_THRESHOLD:
                if worker.submit(_lint_batch, self.config, self.options, work, items):
                    while_waiting(worker.ready)
                    return self._collect(worker, items, work)
            else:
                worker.stop()  # a pool is about to use every core
        return _lint_all(items, self.checker(), self.options, work)

    def _collect(self, worker: Prefork, items: list[Any], work: Any) -> Iterator[Any]:
        ok, results = worker.result()
        yield from results if ok else _lint_all(items, self.checker(), self.options, work)

    def place(self, findings: Sequence[Unplaced]) -> list[Finding]:
        """Answered findings at their calls: placing parses their files again, which needs
        libcst, which the prefork worker has imported."""
        from asynccheck.lint.project.candidates import place

        worker = self._worker()
        if worker is not None and any(at for _, at in findings):
            ok, placed = worker.call(place, list(findings))
            if ok:
                return placed  # type: ignore[no-any-return]
        return place(findings)


def _start_prefork(options: RunOptions) -> Optional[Prefork]:
    """The worker that imports the rules while a cached run looks for what changed: only
    for a run that may lint few files (a cold or `--fix` run lints many, in a pool)."""
    if not options.prefork or not options.use_cache or options.fixing or options.jobs == 1:
        return None
    from asynccheck.lint.prefork import Prefork

    return Prefork.start(_warm_up)


def _warm_up() -> None:
    """In the prefork worker: what linting a file imports, by linting a small one."""
    from asynccheck.lint.checker import checker_for

    checker_for(Config()).check_in_project("warm_up.py", _WARM_UP, None, place_questions=False)


_WARM_UP = "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(0)\n"
_PREFORK_CHECKERS: list[tuple[Config, Checker]] = []  # in the prefork worker


def _lint_batch(config: Config, options: RunOptions, work: Any, items: list[Any]) -> list[Any]:
    """In the prefork worker: `work` over `items` with the checker for `config`."""
    from asynccheck.lint.checker import checker_for

    checker = next((c for known, c in _PREFORK_CHECKERS if known == config), None)
    if checker is None:
        checker = checker_for(config)
        _PREFORK_CHECKERS.append((config, checker))
    in_here = replace(options, jobs=1, progress=False)
    return list(_lint_all(items, checker, in_here, work))


def _lint_all(
    paths: list[Any], checker: Checker, options: RunOptions, work: Any = lint_file
) -> Iterator[Any]:
    jobs = options.jobs or os.cpu_count() or 1
    progress = (
        _Progress(len(paths)) if options.progress and len(paths) >= _PROGRESS_THRESHOLD else None
    )
    with _fewer_collections():
        if jobs <= 1 or len(paths) < _PARALLEL_THRESHOLD:
            _init_worker(checker, options)
            results: Iterator[Any] = map(work, paths)
            pool = None
        else:
            pool = _context().Pool(jobs, initializer=_init_worker, initargs=(checker, options))
            results = pool.imap_unordered(work, paths, chunksize=4)
        try:
            for outcome in results:
                if progress is not None:
                    progress.advance()
                yield outcome
        finally:
            if pool is not None:
                pool.close()
                pool.join()
            if progress is not None:
                progress.done()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic GC less often while linting, and never over what was imported.

    A parsed tree has no cycles and linting makes none (a test guards this), so the GC only
    re-walks live trees: 3.6 % of a run's instructions, 1.3 % with these settings. Freezing
    before the workers fork also keeps their collections off the pages they share with us.
    The settings are restored afterwards for programs that lint through the API.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 10_000), max(threshold[1], 20), max(threshold[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _context() -> Any:
    import multiprocessing

    # fork starts workers in milliseconds and they inherit the imported rules; elsewhere
    # (macOS, Windows) the platform default is the safe choice.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _ignored_for_file(finding: Finding, config: Config) -> bool:
    if not config.per_file_ignores:
        return False
    return ignored_for_file(finding.code, finding.path, config.per_file_ignores, config.root)


class _Progress:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, total: int) -> None:
        self.total, self.count, self.last = total, 0, 0.0

    def advance(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= 0.1 or self.count == self.total:
            self.last = now
            width = 30
            filled = width * self.count // max(self.total, 1)
            bar = "=" * filled + " " * (width - filled)
            sys.stderr.write(f"\r[{bar}] {self.count}/{self.total} files")
            sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()
