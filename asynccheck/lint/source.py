"""Bytes on disk -> text, the way Python itself decodes a source file (BOM, coding cookie)."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Decoded:
    text: Optional[str]
    encoding: str = "utf-8"
    error: Optional[str] = None  # why it could not be decoded (AC002)


def decode(data: bytes) -> Decoded:
    if b"\x00" in data:
        return Decoded(None, error="the file contains NUL bytes (is it binary?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return Decoded(None, error=str(error.msg if hasattr(error, "msg") else error))
    try:
        return Decoded(data.decode(encoding), encoding)
    except (UnicodeDecodeError, LookupError) as error:
        return Decoded(None, encoding, error=f"cannot decode as {encoding}: {error}")


def encode(text: str, encoding: str) -> bytes:
    """The inverse of `decode`: `utf-8-sig` puts the BOM back."""
    return text.encode(encoding)
