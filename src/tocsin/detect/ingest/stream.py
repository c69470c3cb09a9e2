"""Opening inputs (plain or gzip, with a cap on decompressed size) and bounded line reading."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tocsin.errors import InputError, Location

GZIP_MAGIC = b"\x1f\x8b"


class _CappedReader(io.RawIOBase):
    """Reads a decompressing stream and fails once more than ``cap`` bytes came out."""

    def __init__(self, inner: gzip.GzipFile, cap: int, name: str) -> None:
        self._inner = inner
        self._cap = cap
        self._name = name
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"corrupt gzip stream: {exc}", Location(self._name)) from exc
        self.total += len(data)
        if self.total > self._cap:
            raise InputError(
                f"decompressed size exceeds the limit of {self._cap:,} bytes",
                Location(self._name),
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_input(path: Path, max_decompressed: int) -> BinaryIO:
    """A buffered binary stream over ``path``, transparently gunzipped when it is gzip."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", Location(str(path))) from exc
    if raw.peek(2)[:2] != GZIP_MAGIC:
        return raw
    inner = gzip.GzipFile(fileobj=raw, mode="rb")
    capped = _CappedReader(inner, max_decompressed, str(path))
    return io.BufferedReader(capped, buffer_size=1 << 20)  # type: ignore[return-value,unused-ignore]


def peek(stream: BinaryIO, size: int = 8192) -> bytes:
    """The first bytes of a buffered stream without consuming them."""
    peeker: Callable[[int], bytes] | None = getattr(stream, "peek", None)
    if peeker is None:
        raise TypeError("stream is not buffered")
    return peeker(size)[:size]


Oversize = Callable[[int, int], None]


def iter_lines(
    stream: BinaryIO, max_bytes: int, on_oversize: Oversize
) -> Iterator[tuple[int, bytes]]:
    """``(line number, line without its end)``; lines over ``max_bytes`` are reported, skipped.

    Memory stays bounded by ``max_bytes`` whatever the input: an over-long line is read in
    chunks and discarded.
    """
    number = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):
                line = stream.readline(max_bytes + 1)
                size += len(line)
            on_oversize(number, size)
            continue
        yield number, line.rstrip(b"\r\n")
