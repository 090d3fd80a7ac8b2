"""Writing a file so that nobody ever reads half of it, and cleaning up after a writer that was killed.

    atomic_write(Path("models/mine.safetensors"), blob); remove_stale_temporaries("models", recursive=True)

The bytes go to a hidden temporary file beside the target, are flushed to disk, and the temporary is renamed
over the target (atomic on POSIX). The temporary's name says who writes it (host and process id), so a file
left by a killed writer is recognised and removed at once, and one still being written never is.
"""
import os
import re
import socket
import tempfile
import time
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"   # in temporary names (_tmp_prefix)
_TMP_NAME = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)\.[^.]+\.tmp$")
STALE_TMP_S = 600           # a save takes well under a second; a temporary file this old was left by a crash


def _tmp_prefix(target: Path) -> str:
    """A save's temporary name says who writes it (host and process), so a file whose writer is gone can be
    recognised at once, and one still being written never is: .NAME.safetensors.HOST-PID.XXXXXXXX.tmp"""
    return f".{target.name}.{_HOST}-{os.getpid()}."


def _writer_gone(tmp: Path) -> bool | None:
    """True when the process that wrote this temporary file has ended (on this host), False while it runs,
    None when the name does not say (another host's save, or a file of the older naming)."""
    m = _TMP_NAME.match(tmp.name)
    if not m or m["host"] != _HOST:
        return None
    try:
        os.kill(int(m["pid"]), 0)   # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def atomic_write(target: Path, data: bytes):
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix(target), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder, older_than_s: float = STALE_TMP_S, recursive: bool = False) -> int:
    """Delete hidden temporary files (.NAME.safetensors.*.tmp, .NAME.json.*.tmp) left by killed saves: at once
    when their writer process has ended, else (another host's, or an older name) once older_than_s old. A save
    still in progress is never touched. recursive: the owners' folders below too (at server start)."""
    removed, now = 0, time.time()
    for pattern in (".*.safetensors.*.tmp", ".*.json.*.tmp"):
        for tmp in (Path(folder).rglob(pattern) if recursive else Path(folder).glob(pattern)):
            try:
                gone = _writer_gone(tmp)
                if gone or (gone is None and now - tmp.stat().st_mtime > older_than_s):
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass  # gone already, or not ours to delete
    return removed
