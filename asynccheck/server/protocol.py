"""The LSP wiring: which notification or request does what. No rule logic lives here; each
handler calls the module that does the job (linting, diagnostics, actions, hover, configs)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from asynccheck import __version__
from asynccheck.server import actions, hover, project
from asynccheck.server.configs import Configs
from asynccheck.server.diagnostics import config_diagnostic, diagnostics
from asynccheck.server.documents import Documents
from asynccheck.server.linting import Linter, Outcome
from asynccheck.server.locations import Definitions
from asynccheck.server.positions import Lines
from asynccheck.server.scheduler import Scheduler
from asynccheck.server.settings import parse

# Files whose change re-reads configuration (and re-lints every open file), or may change
# another file's cross-module findings. Any TOML file: a configuration may `extend` a file of
# any name (the others are told apart by `Configs.is_config`).
WATCHED = ("**/*.toml", "**/*.py")


class AsynccheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "asynccheck",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.configs = Configs()
        self.scheduler = Scheduler()
        self.outcomes: dict[str, Outcome] = {}  # by URI: what is published now
        self.problems: dict[str, Optional[str]] = {}  # by URI: its broken config file
        self.shown_problems: set[str] = set()  # config files with an error published
        self._linter: Optional[Linter] = None
        self.tasks: set[asyncio.Future[None]] = set()

    @property
    def documents(self) -> Documents:
        return Documents(self.workspace)

    @property
    def linter(self) -> Linter:
        if self._linter is None:
            documents = self.documents
            workspace = project.Workspace(
                documents.text_of, documents.open_paths, project.Summaries(), Definitions()
            )
            self._linter = Linter(self.configs, workspace)
        return self._linter

    def lines(self, text: str) -> Lines:
        return Lines(text, self.workspace.position_codec)

    # --- linting ------------------------------------------------------------------------
    def schedule(self, uri: str) -> None:
        if self.documents.is_python(uri) and uri in self.workspace.text_documents:
            task = asyncio.ensure_future(self.lint(uri))
            self.tasks.add(task)  # a task nobody holds may be collected mid-lint
            task.add_done_callback(self.tasks.discard)

    def schedule_all(self) -> None:
        for uri in self.documents.open_uris():
            self.schedule(uri)

    def opened(self, uri: str) -> None:
        """A file opened: it is linted; when its buffer is not what the disk holds (a new file
        never saved, or unsaved changes restored), the open files whose chains it may change
        are linted too."""
        self.schedule(uri)
        path = self.documents.path_of(uri)
        if path is None or not self.documents.is_python(uri):
            return
        on_disk = self.documents.disk_text(path)
        if on_disk is None:  # a module only this buffer holds: the chains that looked for it
            for other, outcome in list(self.outcomes.items()):
                if path in outcome.absent:
                    self.schedule(other)
        elif on_disk != self.workspace.get_text_document(uri).source:
            self.schedule_dependents(path)

    def edited(self, uri: str) -> None:
        """A file's text changed: it, and the open files whose chains read it, are linted."""
        self.schedule(uri)
        path = self.documents.path_of(uri)
        if path is not None:
            self.schedule_dependents(path)

    def schedule_dependents(self, changed: Optional[str]) -> None:
        """Open files whose cross-module findings read the file `changed`; with None (a file
        appeared or went, so any chain may now end elsewhere) every file that asks."""
        for uri, outcome in list(self.outcomes.items()):
            if not outcome.asks_project or self.documents.path_of(uri) == changed:
                continue
            if changed is None or changed in outcome.reads:
                self.schedule(uri)

    async def lint(self, uri: str) -> None:
        document = self.workspace.text_documents.get(uri)
        if document is None:  # closed before its turn came
            return
        version, text, path = document.version, document.source, self.documents.path_of(uri)
        outcome = await self.scheduler.run(uri, lambda: self._lint_safely(path, text))
        if outcome is None or uri not in self.workspace.text_documents:
            return
        self.outcomes[uri] = outcome
        for failure in outcome.failures:
            self.log(failure, types.MessageType.Error)
        found = diagnostics(outcome, self.lines(text), self.configs.settings)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=version)
        )
        self.problems[uri] = outcome.problem.path if outcome.problem else None
        self.publish_problems({uri: outcome})

    def _lint_safely(self, path: Optional[str], text: str) -> Outcome:
        """Runs in the worker: what goes wrong is returned, to be logged by the loop."""
        try:
            return self.linter.lint(path, text)
        except Exception as error:  # the server outlives any bug in a lint
            return Outcome(text, (), failures=(f"asynccheck: cannot lint {path}: {error!r}",))

    def publish_problems(self, fresh: dict[str, Outcome]) -> None:
        """One diagnostic on each broken configuration file; cleared once it reads again."""
        broken = {p for p in self.problems.values() if p is not None}
        for outcome in fresh.values():
            problem = outcome.problem
            if problem is not None:
                text = self.documents.text_of(problem.path) or ""
                self.publish(problem.path, [config_diagnostic(problem, text)])
        for path in self.shown_problems - broken:
            self.publish(path, [])
        self.shown_problems = broken

    def publish(self, path: str, found: list[types.Diagnostic]) -> None:
        uri = from_fs_path(path) or path
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=found)
        )

    def closed(self, uri: str) -> None:
        self.scheduler.forget(uri)
        self.outcomes.pop(uri, None)
        self.problems.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        self.publish_problems({})

    def settings_changed(self, options: Any) -> None:
        self.configs.use(parse(options))
        if self.configs.settings_error:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Warning, self.configs.settings_error)
            )
        self.schedule_all()

    async def pull_settings(self) -> None:
        """Settings from a client that keeps them for the server to ask for
        (workspace/configuration, section "asynccheck"); an empty answer changes nothing."""
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        item = types.ConfigurationItem(section="asynccheck")
        try:
            answer = await self.workspace_configuration_async(types.ConfigurationParams([item]))
        except Exception as error:  # a client that cannot answer: keep what we have
            self.log(f"asynccheck: cannot read the settings: {error!r}", types.MessageType.Warning)
            return
        if answer and isinstance(answer[0], Mapping) and answer[0]:
            self.settings_changed(answer[0])

    def config_changed(self) -> None:
        self.configs.forget()
        self.schedule_all()

    def current(self, uri: str) -> Optional[Outcome]:
        """The published outcome if it is for the buffer's text; else lint now."""
        document = self.workspace.get_text_document(uri)
        outcome = self.outcomes.get(uri)
        if outcome is not None and outcome.text == document.source:
            return outcome
        if not self.documents.is_python(uri):
            return None
        return self._lint_safely(self.documents.path_of(uri), document.source)

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(kind, message))


server = AsynccheckServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: AsynccheckServer, params: types.InitializeParams) -> None:
    ls.configs.use(parse(params.initialization_options))


@server.feature(types.INITIALIZED)
async def _initialized(ls: AsynccheckServer, params: types.InitializedParams) -> None:
    if ls.configs.settings_error:
        ls.window_show_message(
            types.ShowMessageParams(types.MessageType.Warning, ls.configs.settings_error)
        )
    await ls.pull_settings()
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED]
    )
    registration = types.Registration(
        id="asynccheck-watched-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await ls.client_register_capability_async(types.RegistrationParams([registration]))
    except Exception as error:  # a client that refuses: pyproject.toml saves still count
        ls.log(f"asynccheck: cannot watch files: {error!r}", types.MessageType.Warning)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: AsynccheckServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.opened(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: AsynccheckServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.edited(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: AsynccheckServer, params: types.DidSaveTextDocumentParams) -> None:
    path = ls.documents.path_of(params.text_document.uri)
    if path is not None and ls.configs.is_config(path):
        ls.config_changed()
        return
    ls.edited(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: AsynccheckServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.closed(params.text_document.uri)
    path = ls.documents.path_of(params.text_document.uri)
    if path is not None:  # the file on disk counts again for the chains that read it
        ls.schedule_dependents(path)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def _did_change_configuration(
    ls: AsynccheckServer, params: types.DidChangeConfigurationParams
) -> None:
    if isinstance(params.settings, Mapping) and params.settings:
        ls.settings_changed(params.settings)
    else:  # "something changed, ask me" (the pull model)
        await ls.pull_settings()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def _did_change_watched_files(
    ls: AsynccheckServer, params: types.DidChangeWatchedFilesParams
) -> None:
    paths = [ls.documents.path_of(change.uri) or "" for change in params.changes]
    if any(ls.configs.is_config(path) for path in paths if path):
        ls.config_changed()
        return
    for change, path in zip(params.changes, paths):
        if path.endswith(".py"):  # a module created or deleted may be any chain's new end
            moved = change.type != types.FileChangeType.Changed
            ls.schedule_dependents(None if moved else path)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL],
        resolve_provider=False,
    ),
)
def _code_action(
    ls: AsynccheckServer, params: types.CodeActionParams
) -> Optional[list[types.CodeAction]]:
    uri = params.text_document.uri
    outcome = ls.current(uri)
    if outcome is None:
        return None
    path = ls.documents.path_of(uri)
    return actions.code_actions(
        uri,
        outcome,
        ls.lines(outcome.text),
        params.range,
        params.context.only,
        ls.configs.settings,
        lambda text: ls.linter.check(path, text),
    )


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: AsynccheckServer, params: types.HoverParams) -> Optional[types.Hover]:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    lines = ls.lines(document.source)
    where = lines.from_client(params.position)
    outcome = ls.outcomes.get(uri)
    findings = outcome.findings if outcome is not None and outcome.text == document.source else ()
    return hover.hover(lines.line(where.row), where, findings)


def start() -> None:
    """Serve over stdio until the client says `exit`."""
    server.start_io()
