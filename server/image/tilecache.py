"""Rendered derivatives on disk, shared by every thread and every gunicorn worker.

- Keys are strings such as ``"<pyramid key>/<canonical path>"``; each maps to exactly one file
  under the cache directory and can never name a file outside it (segments are percent-encoded).
  Layout: ``<root>/<first segment>/<rest of the key, "/" encoded>``: one directory per pyramid.
- ``get_or_render`` is single-flight across threads *and* processes: an ``flock`` lock file per
  key, so N concurrent requests for one uncached tile render it once; the others wait, then read.
- Writes are atomic (temp file + ``os.replace``): a reader sees the whole file or none.
- With a byte cap, least-recently-used files (by mtime) are evicted down to 90 % of the cap.
  Reads never pay for LRU bookkeeping: a hit touches its file only if the file has not been
  touched for ``touch_after`` seconds; each process keeps a running total (last scan + its own
  writes) and rescans when that total passes the cap or after writing 5 % of the cap, which
  also picks up what the other workers wrote.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .request import ImageRequest

log = logging.getLogger(__name__)

_SAFE = "-_.~,!^"        # kept readable in file names; everything else is percent-encoded
_MAX_NAME = 200          # longer encoded names are replaced by a hash (file systems stop at 255)
_LOCKS = ".locks"        # dot names never collide with encoded keys (a leading "." is encoded)
_STALE = 3600.0          # temp/lock files older than this are leftovers of a crashed worker


@lru_cache(maxsize=8192)  # each cache hit names its file again: a pyramid's key and its hot tiles repeat
def _segment(text: str) -> str:
    """Percent-encode one path segment injectively; never "", ".", ".." or a dot file."""
    if not text:
        return "%e"  # like "%h" below: quote() never emits "%" followed by a lowercase non-hex letter
    name = quote(text, safe=_SAFE, errors="surrogatepass")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > _MAX_NAME:  # "%h" never comes out of quote(), which emits only "%XX" hex pairs
        name = "%h" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return name


class DiskCache:
    """A directory of rendered bytes keyed by string; ``max_bytes=None`` never evicts, 0 disables."""

    def __init__(self, root: Path, max_bytes: int | None = None, *, touch_after: float = 300.0) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.touch_after = touch_after
        self._mutex = threading.Lock()
        self._estimate: int | None = None   # bytes on disk as this process believes (None: unknown)
        self._since_scan = 0                # bytes this process wrote since its last scan
        self._evicting = False

    # --- public -----------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.max_bytes is None or self.max_bytes > 0

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (whether or not it exists); always inside ``root``."""
        if not key or "\0" in key:
            raise ValueError(f"not a cache key: {key!r}")
        head, sep, rest = key.partition("/")
        if not sep:
            return self.root / "%" / _segment(key)  # "%" alone is never an encoded segment
        return self.root / _segment(head) / _segment(rest)

    def get(self, key: str) -> Path | None:
        """The cached file for ``key``, or None. It may be evicted at any moment: be ready for that."""
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        if st.st_size == 0:  # a rename that reached the disk before its data (power loss)
            return None
        self._touch(path, st.st_mtime)
        return path

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        """Cached bytes, or ``render()`` once across all threads and workers, stored, returned."""
        if not self.enabled:
            return render()
        path = self.path(key)
        data = self._read(path)
        if data is not None:
            return data
        with self._key_lock(key):
            data = self._read(path)  # rendered by whoever held the lock before us
            if data is not None:
                return data
            data = render()
            stored = self._write(path, data)
        if stored:
            self._account(len(data))  # after the lock: waiters must not wait for an eviction pass
        return data

    def put(self, key: str, data: bytes) -> Path:
        """Store ``data`` under ``key`` atomically (without rendering through the single-flight lock)."""
        path = self.path(key)
        if self.enabled and self._write(path, data):
            self._account(len(data))
        return path

    def evict(self) -> int:
        """Scan the cache; if over the cap, delete least-recently-used files down to 90 % of it.

        Returns the bytes left. Runs in one process at a time (others skip it, returning their
        estimate); also removes temp and lock files that crashed workers left behind.
        """
        with self._mutex:
            if self._evicting:
                return self._estimate or 0
            self._evicting = True
        try:
            with self._try_lock(self.root / _LOCKS / "evict") as got:
                if not got:
                    with self._mutex:
                        self._since_scan = 0
                        return self._estimate or 0
                total = self._evict_locked()
            with self._mutex:
                self._estimate, self._since_scan = total, 0
            return total
        finally:
            with self._mutex:
                self._evicting = False

    # --- reading and writing ----------------------------------------------------------------------

    def _read(self, path: Path) -> bytes | None:
        try:
            with open(path, "rb") as f:
                mtime = os.fstat(f.fileno()).st_mtime
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:  # unreadable cache: render instead of failing the request
            log.warning("cache %s: cannot read %s (%s)", self.root, path.name, exc.strerror or exc)
            return None
        if not data:
            return None
        self._touch(path, mtime)
        return data

    def _touch(self, path: Path, mtime: float) -> None:
        """Mark a hit for LRU, at most once per ``touch_after`` seconds per file."""
        if self.max_bytes and time.time() - mtime > self.touch_after:
            try:
                os.utime(path)
            except OSError:
                pass  # evicted meanwhile, or a read-only cache: LRU is best effort

    def _write(self, path: Path, data: bytes) -> bool:
        """Atomic write; a full or read-only disk only costs the cache, never the response."""
        for _ in range(3):  # an eviction pass may remove the (empty) directory under our feet
            tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "xb") as f:
                    f.write(data)
                os.replace(tmp, path)
                return True
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cache %s: cannot store %s (%s)", self.root, path.name, exc.strerror or exc)
                tmp.unlink(missing_ok=True)
                return False
        return False

    def _account(self, size: int) -> None:
        """Keep the running total; decide, cheaply, whether an eviction pass is due."""
        if not self.max_bytes:
            return
        with self._mutex:
            if self._estimate is not None:
                self._estimate += size
            self._since_scan += size
            due = (self._estimate is None or self._estimate > self.max_bytes
                   or self._since_scan >= max(self.max_bytes // 20, 1))
        if due:
            self.evict()

    def _evict_locked(self) -> int:
        now = time.time()
        files: list[tuple[float, int, str]] = []
        dirs: list[str] = []
        total = 0
        for entry in _scandir(self.root):
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith("."):  # not ours to evict (locks, other modules' markers)
                    if entry.name == _LOCKS:
                        self._sweep_locks(Path(entry.path), now)
                    continue
                dirs.append(entry.path)
                for child in _scandir(Path(entry.path)):
                    try:
                        st = child.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if child.name.startswith("."):
                        if now - st.st_mtime > _STALE:
                            _unlink(child.path)
                        continue
                    files.append((st.st_mtime, st.st_size, child.path))
                    total += st.st_size
        if self.max_bytes and total > self.max_bytes:
            target = int(self.max_bytes * 0.9)
            files.sort()
            for _, size, file in files:
                if total <= target:
                    break
                if _unlink(file):
                    total -= size
            for directory in dirs:
                try:
                    os.rmdir(directory)  # only succeeds when empty
                except OSError:
                    pass
        return total

    # --- locks ------------------------------------------------------------------------------------

    def _lock_path(self, key: str) -> Path:
        return self.root / _LOCKS / f"{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}.lock"

    @contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        """An exclusive flock on a per-key file, deleted on release so locks do not pile up.

        flock (not lockf) so that threads of one process exclude each other too: each
        acquisition opens its own file description. After locking, the path must still name
        the locked inode; otherwise the previous holder deleted it and we start again.
        """
        path = self._lock_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # read-only cache: still serve, just without single flight
            log.warning("cache %s: no lock directory (%s)", self.root, exc.strerror or exc)
            yield
            return
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if _same_file(fd, path):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        try:
            yield
        finally:
            _unlink(str(path))  # while still holding it: waiters see a different inode and retry
            os.close(fd)

    @contextmanager
    def _try_lock(self, path: Path) -> Iterator[bool]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _sweep_locks(self, directory: Path, now: float) -> None:
        """Delete lock files a crashed worker left, using the same protocol as a release."""
        for entry in _scandir(directory):
            if not entry.name.endswith(".lock"):
                continue
            try:
                if now - entry.stat().st_mtime < _STALE:
                    continue
                fd = os.open(entry.path, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _same_file(fd, Path(entry.path)):
                    _unlink(entry.path)
            except OSError:
                pass  # held: somebody is rendering right now
            finally:
                os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _scandir(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def cache_key(content_key: str, req: ImageRequest) -> str:
    """Where a rendering is cached: the master's content key and the 3.0 canonical path of the
    request (one rendering serves both API versions; grid tiles read from the pyramid share its ETag)."""
    return f"{content_key}/{req.canonical(3)}"


def cache_etag(key: str) -> str:
    """The strong validator of a rendering, derived from its cache key (no stat, no hashing of bytes)."""
    return hashlib.sha1(key.encode()).hexdigest()
