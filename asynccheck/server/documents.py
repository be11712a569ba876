"""The workspace's Python files as the server sees them: an open buffer wins over the file
on disk (unsaved text is what the user is looking at)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from pygls.uris import to_fs_path
from pygls.workspace import Workspace

from asynccheck.lint.source import decode

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass
class Documents:
    workspace: Workspace

    def path_of(self, uri: str) -> Optional[str]:
        """The file a URI names; None for an untitled buffer (it has no folder)."""
        if not uri.startswith("file:"):
            return None
        path = to_fs_path(uri)
        return os.path.abspath(path) if path else None

    def is_python(self, uri: str) -> bool:
        document = self.workspace.text_documents.get(uri)
        if document is not None and document.language_id == "python":
            return True
        return uri.endswith(PYTHON_SUFFIXES)

    def open_uris(self) -> list[str]:
        return [uri for uri in self.workspace.text_documents if self.is_python(uri)]

    def open_paths(self) -> list[str]:
        """The files of the open buffers (those not saved yet among them)."""
        paths = (self.path_of(uri) for uri in list(self.workspace.text_documents))
        return [path for path in paths if path is not None]

    def text_of(self, path: str) -> Optional[str]:
        """A file's current text: the open buffer, else the file decoded as Python does."""
        wanted = os.path.abspath(path)
        for uri, document in list(self.workspace.text_documents.items()):
            if self.path_of(uri) == wanted:
                return document.source
        return self.disk_text(wanted)

    def disk_text(self, path: str) -> Optional[str]:
        """The saved file, decoded as Python does; None when there is none."""
        try:
            with open(path, "rb") as f:
                return decode(f.read()).text
        except OSError:
            return None
