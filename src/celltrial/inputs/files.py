"""Read an input file within its size limit, as strict UTF-8, before any parsing work.

A file too large, not a regular file or not UTF-8 text is refused with the caller's error class
(a :class:`ValueError` subclass, so the CLI exits 2) naming the file and, for bad bytes, the
byte offset. Nothing is decoded leniently: a replacement character would silently change a name.

Example:
    >>> import tempfile, pathlib
    >>> from celltrial.errors import InputError
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.yaml"
    >>> _ = p.write_bytes(b"name: caf\\xe9\\n")
    >>> read_text(p, "scenario file", MAX_YAML_BYTES, InputError)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    celltrial.errors.InputError: scenario file '...bad.yaml' is not UTF-8 text: byte 0xe9 at offset 9 ...
"""

from __future__ import annotations

from pathlib import Path

#: Largest YAML input (scenario, targets, calibration case); shipped files are a few kB.
MAX_YAML_BYTES = 2_000_000
#: Largest CSV input (NONMEM-style data); about 500,000 observation rows.
MAX_CSV_BYTES = 50_000_000


def _size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def read_bytes(path: str | Path, what: str, limit: int, error: type[Exception]) -> bytes:
    """The bytes of ``path``; ``error`` if it is missing, not a regular file or over ``limit`` bytes."""
    path = Path(path)
    if not path.is_file():  # also refuses FIFOs and devices, which could block or never end
        raise error(f"{what} {str(path)!r} not found (or not a regular file)")
    size = path.stat().st_size
    if size > limit:
        raise error(f"{what} {str(path)!r} is {_size_text(size)}, above the limit of {_size_text(limit)}; "
                    "is it the right file?")
    with path.open("rb") as fh:
        data = fh.read(limit + 1)  # the file may grow between stat and read
    if len(data) > limit:
        raise error(f"{what} {str(path)!r} is above the limit of {_size_text(limit)}")
    return data


def decode(data: bytes, where: str, error: type[Exception]) -> str:
    """``data`` as strict UTF-8 (a leading byte-order mark is dropped); ``error`` naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        raise error(f"{where} is not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} (line {line}) "
                    "cannot be decoded; save the file as UTF-8") from None


def read_text(path: str | Path, what: str, limit: int, error: type[Exception]) -> str:
    """:func:`read_bytes` then :func:`decode`: the text of a file within its limits."""
    return decode(read_bytes(path, what, limit, error), f"{what} {str(path)!r}", error)
