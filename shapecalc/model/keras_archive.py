"""The ``config.json`` of a ``.keras`` archive (a zip file), read without trusting the archive:
its sizes are checked before anything is inflated, only that one member is read (never
extracted, so no member name can point outside), and any way the zip machinery can fail on a
damaged or doctored archive (truncated, encrypted, lying sizes, duplicate members) is one error.

>>> import io, zipfile
>>> out = io.BytesIO()
>>> with zipfile.ZipFile(out, "w") as archive:
...     archive.writestr("config.json", '{"class_name": "Sequential"}')
>>> config_json(out.getvalue(), "m.keras")
b'{"class_name": "Sequential"}'
"""

from __future__ import annotations

from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.limits import MAX_BYTES

CONFIG = "config.json"


def config_json(data: bytes, source: str) -> bytes:
    """The bytes of ``config.json`` in the ``.keras`` archive ``data``."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if info.filename == CONFIG]
            if not members:
                raise ShapecalcError(f"{source}: a zip archive without {CONFIG} is not a .keras file")
            if len(members) > 1:
                raise ShapecalcError(f"{source}: the archive holds {CONFIG} {len(members)} times")
            info = members[0]
            if info.file_size > MAX_BYTES:
                raise ShapecalcError(f"{source}: {CONFIG} is larger than {MAX_BYTES // 2**20} MB")
            with archive.open(info) as handle:
                raw = handle.read(MAX_BYTES + 1)  # the recorded size may lie: never read more
    except ShapecalcError:
        raise
    except Exception as error:
        # zipfile fails on a doctored archive in many ways (BadZipFile, ValueError on a negative
        # seek, RuntimeError for an encrypted member, zlib.error, EOFError, NotImplementedError
        # for an unknown compression, OverflowError, ...): each means the archive is unreadable.
        raise ShapecalcError(f"{source}: not a readable .keras archive: {shown(str(error))}") from None
    if len(raw) > MAX_BYTES:
        raise ShapecalcError(f"{source}: {CONFIG} is larger than {MAX_BYTES // 2**20} MB")
    return raw
