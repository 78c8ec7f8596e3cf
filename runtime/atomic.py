"""Write files so that a crash or Ctrl-C never leaves a half-written one behind."""

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


def _temporary(target: Path) -> Path:
    """A fresh hidden name beside `target`, short enough to fit whatever the target's length.
    It keeps the target's suffix because some writers (Keras) insist on it."""
    suffix = target.suffix if len(target.suffix) <= 16 else ""
    return target.with_name(f".tmp-{secrets.token_hex(4)}{suffix}")


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    tmp = _temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_bytes_new(target: Path, data: bytes) -> None:
    """Like write_bytes_atomic, but never replaces anything already at `target` (a file, a
    folder, a link): raises FileExistsError instead."""
    target = Path(target)
    tmp = _temporary(target)
    try:
        tmp.write_bytes(data)
        try:
            os.link(tmp, target)  # atomic and exclusive: fails if the name is taken
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links (FAT): check, then rename
            if os.path.lexists(target):
                raise FileExistsError(errno.EEXIST, "File exists", str(target)) from None
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
