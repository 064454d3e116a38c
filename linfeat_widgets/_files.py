"""Writing files so that a failure never destroys an earlier one.

Shared by :meth:`History.save <linfeat_widgets.training.History.save>` and the figure and
animation export: the new file is written beside ``path`` under a temporary name and moved
into place (``os.replace``, atomic on one file system) only once it is complete.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomically"]


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary_path)``, then move the file to ``path``; on any failure remove it.

    The temporary file keeps ``path``'s suffix (writers that pick a format by extension
    still see it). A file replaced keeps its permission bits; a new one gets ``0o666``
    less the umask (``mkstemp`` alone would leave ``0o600``).
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, mode)
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
