"""Inside containers, bounded: zip archives (the standard library's ``zipfile``), ISO 9660
disk images (a small reader of their directory records) and the name a gzip file keeps.

Nothing is extracted to disk and nothing decompresses without a bound. Zip bombs are
refused before any byte is inflated, from the archive's own directory: the member count
(read from the end-of-directory record before ``zipfile`` parses anything), the declared
sizes, their total and the compression ratio. Members are then read in chunks of
:data:`CHUNK` bytes, each up to ``member_bytes``, all of an attachment's nested archives
sharing one :class:`Budget` (members and bytes), so 42.zip-style nesting stops early.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass, field

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_depth: int = 3  # archives inside archives inside the attachment
    max_members: int = 500  # per archive, and in all for one attachment (Budget)
    max_declared_bytes: int = 200 * 1024 * 1024  # sum of the declared sizes of one archive
    max_ratio: int = 200  # declared size / compressed size, for members over 1 MiB
    member_bytes: int = 8 * 1024 * 1024  # read of one member
    total_bytes: int = 40 * 1024 * 1024  # read from all members of one attachment


ARCHIVE_LIMITS = ArchiveLimits()


@dataclass
class Budget:
    """What one attachment may still cost, shared by its nested containers."""

    limits: ArchiveLimits = ARCHIVE_LIMITS
    members: int = 0
    bytes_read: int = 0

    @property
    def spent(self) -> bool:
        return self.members >= self.limits.max_members or (
            self.bytes_read >= self.limits.total_bytes
        )


@dataclass
class Opened:
    """What a container holds: its members' names and (first) bytes, what stood out."""

    members: list[tuple[str, bytes]] = field(default_factory=list)
    encrypted: list[str] = field(default_factory=list)  # members behind a password
    bomb: str = ""  # why the container was refused as a decompression bomb
    cut: bool = False  # the budget ran out: some members were not read


def _declared_entries(data: bytes) -> int | None:
    """The member count the end-of-central-directory record declares (None: not found)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    total: int = struct.unpack_from("<H", data, at + 10)[0]
    return total


def _bomb(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> str:
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_declared_bytes:
        return f"declares {declared:,} bytes once decompressed"
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            return f"member {info.filename!r} inflates {ratio:,.0f} times"
    return ""


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    limit = min(budget.limits.member_bytes, budget.limits.total_bytes - budget.bytes_read)
    out = bytearray()
    with archive.open(info) as handle:  # zipfile never yields more than the declared size
        while len(out) < limit:
            chunk = handle.read(min(CHUNK, limit - len(out)))
            if not chunk:
                break
            out += chunk
    budget.bytes_read += len(out)
    return bytes(out)


def open_zip(data: bytes, budget: Budget) -> Opened:
    """The members of the zip archive in ``data``; a bomb is refused unopened. Raises
    ``zipfile.BadZipFile`` (or ``ValueError``, ``EOFError``…) on a broken archive."""
    limits = budget.limits
    opened = Opened()
    declared = _declared_entries(data)
    if declared is not None and (declared == 0xFFFF or declared > limits.max_members):
        opened.bomb = f"declares {declared:,} members"
        return opened
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            opened.bomb = f"holds {len(infos):,} members"
            return opened
        opened.bomb = _bomb(infos, limits)
        if opened.bomb:
            return opened
        for info in infos:
            if info.is_dir():
                continue
            if budget.spent:
                opened.cut = True
                opened.members.append((info.filename, b""))
                continue
            budget.members += 1
            if info.flag_bits & 0x1:
                opened.encrypted.append(info.filename)
                opened.members.append((info.filename, b""))
                continue
            opened.members.append((info.filename, _read(archive, info, budget)))
    return opened


def is_office_zip(data: bytes) -> bool:
    """An OOXML or OpenDocument file (a zip by format, a document for the user)."""
    head = data[:4096]
    return (
        b"[Content_Types].xml" in head
        or b"mimetypeapplication/vnd.oasis" in head
        or (b"[Content_Types].xml" in data[-65_557:])
    )


def gzip_name(data: bytes) -> str:
    """The original file name a gzip header keeps ("" when none)."""
    if len(data) < 10 or data[:2] != b"\x1f\x8b":
        return ""
    flags, at = data[3], 10
    if flags & 0x04:  # FEXTRA
        if at + 2 > len(data):
            return ""
        at += 2 + struct.unpack_from("<H", data, at)[0]
    if not flags & 0x08:  # FNAME
        return ""
    end = data.find(b"\x00", at, at + 1024)
    return data[at:end].decode("latin-1") if end > at else ""


_ISO_BLOCK_AT = 0x8000


def _records(data: bytes, start: int, length: int) -> list[tuple[str, bool, int, int]]:
    """(name, is_dir, extent, size) of one ISO 9660 directory's records."""
    found: list[tuple[str, bool, int, int]] = []
    at, end = start, min(start + length, len(data), start + 256 * 1024)
    while at + 33 < end and len(found) < 1000:
        size = data[at]
        if size == 0:  # records do not cross a sector: skip to the next one
            at = (at // 2048 + 1) * 2048
            continue
        extent, length_ = (
            struct.unpack_from("<I", data, at + 2)[0],
            struct.unpack_from("<I", data, at + 10)[0],
        )
        name_len = data[at + 32]
        raw = data[at + 33 : at + 33 + name_len]
        if raw not in (b"\x00", b"\x01"):
            name = raw.decode("latin-1").partition(";")[0].rstrip(".")
            found.append((name, bool(data[at + 25] & 0x02), extent, length_))
        at += size
    return found


def open_iso(data: bytes, budget: Budget) -> Opened:
    """The files of an ISO 9660 image's root directory and its sub-directories (two
    levels, names in the primary volume's 8.3 form), each with its first bytes."""
    opened = Opened()
    pvd = _ISO_BLOCK_AT
    if data[pvd + 1 : pvd + 6] != b"CD001" or len(data) < pvd + 190:
        return opened
    block = struct.unpack_from("<H", data, pvd + 128)[0] or 2048
    root = pvd + 156
    extent, length = (
        struct.unpack_from("<I", data, root + 2)[0],
        struct.unpack_from("<I", data, root + 10)[0],
    )
    queue: list[tuple[str, int, int]] = [("", extent, length)]
    seen: set[int] = set()
    while queue and len(opened.members) < budget.limits.max_members:
        prefix, extent, length = queue.pop(0)
        if extent in seen or prefix.count("/") > 2:
            continue
        seen.add(extent)
        for name, is_dir, child, size in _records(data, extent * block, length):
            path = f"{prefix}{name}"
            if is_dir:
                queue.append((path + "/", child, size))
                continue
            start = child * block
            budget.members += 1
            opened.members.append((path, data[start : start + min(size, CHUNK)]))
    return opened
