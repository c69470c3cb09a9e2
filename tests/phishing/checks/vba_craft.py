"""Crafted VBA projects for the macro tests: a ``vbaProject.bin`` written from scratch.

No Office is at hand, and no third-party macro sample is committed: this writes what Word
writes, from the specifications, small enough to read.

- MS-OVBA 2.3.4.2: the ``dir`` stream (project and module records) and the module stream
  (a performance cache, then the compressed source), 2.4.1 the compressed container —
  written as raw 4,096-byte chunks (flag 0) and a final chunk of literal tokens (flag 1),
  as olevba and other readers decompress them.
- MS-CFB: a version 3 compound file (512-byte sectors, one FAT sector). Every stream is
  made at least 4,096 bytes long (the mini-stream cutoff) so that no mini stream is needed:
  the module's performance cache, the ``_VBA_PROJECT`` cache, blank lines in ``PROJECT``
  and zeros after the ``dir`` terminator are all places the formats leave free.
"""

from __future__ import annotations

import struct
import zipfile
from io import BytesIO

SECTOR = 512
CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def compress(data: bytes) -> bytes:
    """An MS-OVBA compressed container holding ``data``: whole 4,096-byte blocks as raw
    chunks, the rest as chunks of literal tokens (no copy tokens; at most 3,640 bytes per
    chunk so that it stays within the 4,098-byte chunk size)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), 4096):
        block = data[start : start + 4096]
        if len(block) == 4096:
            out += struct.pack("<H", 0x3FFF) + block  # raw chunk: size 4098, flag 0
            continue
        for piece in range(0, len(block), 3640):
            chunk = bytearray()
            for at in range(piece, min(piece + 3640, len(block)), 8):
                chunk += b"\x00" + block[at : min(at + 8, piece + 3640, len(block))]
            out += struct.pack("<H", 0xB000 | (len(chunk) + 2 - 3)) + chunk
    return bytes(out)


def _record(ident: int, payload: bytes) -> bytes:
    return struct.pack("<HL", ident, len(payload)) + payload


def _dir_stream(module: str) -> bytes:
    name = b"VBAProject"
    mod = module.encode("ascii")
    out = bytearray()
    out += _record(0x0001, struct.pack("<L", 1))  # PROJECTSYSKIND: 32-bit Windows
    out += _record(0x0002, struct.pack("<L", 0x409))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<L", 0x409))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", 1252))  # PROJECTCODEPAGE
    out += _record(0x0004, name)  # PROJECTNAME
    out += _record(0x0005, b"") + _record(0x0040, b"")  # PROJECTDOCSTRING (+ unicode)
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH 1 and 2
    out += _record(0x0007, struct.pack("<L", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<L", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HLLH", 0x0009, 4, 1, 0)  # PROJECTVERSION (Reserved 4, major, minor)
    out += _record(0x000C, b"") + _record(0x003C, b"")  # PROJECTCONSTANTS (+ unicode)
    out += _record(0x000F, struct.pack("<H", 1))  # PROJECTMODULES: one module
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    out += _record(0x0019, mod)  # MODULENAME
    out += _record(0x0047, module.encode("utf-16-le"))  # MODULENAMEUNICODE
    out += _record(0x001A, mod) + _record(0x0032, module.encode("utf-16-le"))  # STREAMNAME
    out += _record(0x001C, b"") + _record(0x0048, b"")  # MODULEDOCSTRING (+ unicode)
    out += _record(0x0031, struct.pack("<L", CUTOFF))  # MODULEOFFSET: source after the cache
    out += _record(0x001E, struct.pack("<L", 0))  # MODULEHELPCONTEXT
    out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
    out += struct.pack("<HL", 0x0021, 0)  # MODULETYPE: procedural
    out += struct.pack("<HL", 0x002B, 0)  # MODULE terminator
    out += struct.pack("<HL", 0x0010, 0)  # dir terminator
    return bytes(out) + bytes(CUTOFF)  # read no further than the terminator


def vba_project(source: str, module: str = "Module1") -> bytes:
    """A ``vbaProject.bin`` (compound file) with one standard module holding ``source``."""
    code = source.replace("\n", "\r\n").encode("cp1252")
    project = (
        'ID="{00000000-0000-0000-0000-000000000000}"\r\n'
        f'Module={module}\r\nName="VBAProject"\r\nHelpContextID="0"\r\n'
        'VersionCompatible32="393222000"\r\nCMG=""\r\nDPB=""\r\nGC=""\r\n\r\n'
        "[Host Extender Info]\r\n"
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n"
    ).encode("cp1252")
    streams = {
        "PROJECT": project + b"\r\n" * CUTOFF,
        "dir": compress(_dir_stream(module)),
        module: bytes(CUTOFF) + compress(code),
        "_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000) + bytes(CUTOFF),
    }
    return _compound(streams, module)


def docm(source: str) -> bytes:
    """A minimal macro-enabled Word package holding :func:`vba_project`."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="bin" ContentType="application/'
            'vnd.ms-office.vbaProject"/></Types>',
        )
        package.writestr("word/document.xml", "<w:document/>")
        package.writestr("word/vbaProject.bin", vba_project(source))
    return buffer.getvalue()


# --- MS-CFB --------------------------------------------------------------------------------
def _entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded), kind, 1)  # name length, type, colour black
        + struct.pack("<LLL", left, right, child)
        + bytes(16)  # CLSID
        + struct.pack("<L", 0)  # state bits
        + bytes(16)  # creation and modification times
        + struct.pack("<LQ", start, size)
    )


def _compound(streams: dict[str, bytes], module: str) -> bytes:
    """Root: the ``VBA`` storage and the ``PROJECT`` stream; ``VBA``: ``dir``, the module and
    ``_VBA_PROJECT``. Siblings are ordered as MS-CFB says (shorter names first)."""
    order = ["PROJECT", "dir", module, "_VBA_PROJECT"]
    for name in order:
        assert len(streams[name]) >= CUTOFF, name  # no mini stream
    fat: list[int] = []
    data = bytearray()
    starts: dict[str, int] = {}
    first_data = 1 + 2  # after the FAT sector and two directory sectors
    for name in order:
        blob = streams[name]
        count = -(-len(blob) // SECTOR)
        start = first_data + len(fat)
        starts[name] = start
        fat.extend(start + i + 1 for i in range(count - 1))
        fat.append(ENDOFCHAIN)
        data += blob.ljust(count * SECTOR, b"\x00")
    table = [FATSECT, 2, ENDOFCHAIN, *fat]  # sector 0 FAT, 1-2 directory, then data
    assert len(table) <= SECTOR // 4, "one FAT sector is enough for a test project"
    table += [FREESECT] * (SECTOR // 4 - len(table))
    # ids: 0 Root, 1 VBA, 2 PROJECT, 3 dir, 4 module, 5 _VBA_PROJECT
    size = {name: len(streams[name]) for name in order}
    entries = [
        _entry("Root Entry", 5, NOSTREAM, NOSTREAM, 1, ENDOFCHAIN, 0),
        _entry("VBA", 1, NOSTREAM, 2, 4, 0, 0),  # right sibling: PROJECT (longer name)
        _entry("PROJECT", 2, NOSTREAM, NOSTREAM, NOSTREAM, starts["PROJECT"], size["PROJECT"]),
        _entry("dir", 2, NOSTREAM, NOSTREAM, NOSTREAM, starts["dir"], size["dir"]),
        _entry(module, 2, 3, 5, NOSTREAM, starts[module], size[module]),
        _entry(
            "_VBA_PROJECT",
            2,
            NOSTREAM,
            NOSTREAM,
            NOSTREAM,
            starts["_VBA_PROJECT"],
            size["_VBA_PROJECT"],
        ),  # fmt: skip
    ]
    unused = _entry("", 0, NOSTREAM, NOSTREAM, NOSTREAM, 0, 0)
    directory = b"".join(entries) + unused * (2 * SECTOR // 128 - len(entries))
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x003E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<LLLLLLLLL", 0, 1, 1, 0, CUTOFF, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack("<L", 0)  # DIFAT[0]: the FAT is sector 0
        + struct.pack("<L", FREESECT) * 108
    )
    assert len(header) == SECTOR
    return header + struct.pack(f"<{SECTOR // 4}L", *table) + directory + bytes(data)
