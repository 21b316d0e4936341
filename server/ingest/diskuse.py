"""What a data folder holds, by inode: to measure what an ingest wrote (tests and ``bench/``).

Hard links and symlinked objects shared between generations are one inode, so the bytes a run
"wrote" are the sizes of the inodes that are new or changed since a snapshot taken before it.
"""
from __future__ import annotations

import os
from pathlib import Path

Snapshot = dict[tuple[int, int], tuple[int, int, str]]  # (device, inode) -> (size, mtime_ns, one path)


def snapshot(root: Path) -> Snapshot:
    """Every file, folder and link under ``root`` (links not followed)."""
    out: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            out[(st.st_dev, st.st_ino)] = (st.st_size, st.st_mtime_ns, os.path.relpath(path, root))
    return out


def written(before: Snapshot, after: Snapshot) -> tuple[int, int, list[str]]:
    """Between two snapshots: the bytes of new inodes, the whole size of the files that changed (an
    upper bound: a database may have rewritten a few pages only), and the paths of both."""
    new = changed = 0
    paths = []
    for key, (size, mtime, path) in after.items():
        old = before.get(key)
        if old is None:
            new += size
        elif old[:2] != (size, mtime):
            changed += size
        else:
            continue
        paths.append(path)
    return new, changed, sorted(paths)
