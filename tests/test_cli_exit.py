"""The ``heritage`` console script ends without the interpreter's teardown (``server/cli.py``: ``run``),
yet says everything, keeps its exit status and runs the exit handlers, as an ordinary exit would."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A module-level object whose finalizer prints: an ordinary interpreter exit runs it while tearing
# the modules down; ``run`` ends before that. An exit handler (atexit) runs either way.
PROGRAM = """
import atexit, sys
class Loud:
    def __del__(self):
        print("torn down", flush=True)
keep = Loud()
atexit.register(print, "exit handler ran")
sys.argv = ["heritage", *sys.argv[1:]]
from server.cli import run
run()
"""


def heritage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LANG": "C.UTF-8", **(env or {})}, timeout=120, check=False)


def test_success_says_everything_runs_exit_handlers_and_skips_the_teardown() -> None:
    done = heritage("--version")
    assert done.returncode == 0, done.stderr
    assert "heritage, version" in done.stdout
    assert "exit handler ran" in done.stdout
    assert "torn down" not in done.stdout


def test_a_usage_error_keeps_its_status_and_message(tmp_path: Path) -> None:
    done = heritage("ingest", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert "exit handler ran" in done.stdout


def test_an_ingest_with_errors_exits_1_with_its_summary_and_report(tmp_path: Path) -> None:
    holdings = tmp_path / "holdings"
    (holdings / "items").mkdir(parents=True)  # no collections.csv, no items.csv: errors, nothing published
    done = heritage("ingest", str(holdings), env={"HERITAGE_DATA": str(tmp_path / "data")})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "collections.csv" in done.stdout  # the summary names the missing sheet
    report = next(line for line in done.stdout.splitlines() if line.startswith("report: "))
    assert Path(report.removeprefix("report: ")).read_text(encoding="utf-8").count("collections.csv") >= 1


def test_a_large_output_into_a_pipe_is_all_there(tmp_path: Path) -> None:
    """Buffered output is flushed before the process ends (a pipe's buffer, not a terminal's line)."""
    holdings = tmp_path / "holdings"
    (holdings / "items").mkdir(parents=True)
    (holdings / "collections.csv").write_text("id,title\nc,C\n", encoding="utf-8")
    rows = "".join(f"item-{n:04d},c,book,Title {n}\n" for n in range(3000))  # 3,000 items without folders
    (holdings / "items.csv").write_text("id,collection,type,title\n" + rows, encoding="utf-8")
    done = heritage("check", str(holdings), env={"HERITAGE_DATA": str(tmp_path / "data")})
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert sum("no folder items/" in line for line in lines) == 3000  # ~200 KB, past any pipe buffer
    assert lines[-3].startswith("check: ") and "3000 errors" in lines[-3]
    assert lines[-2].startswith("report: ") and lines[-1] == "exit handler ran"


def test_a_profiler_still_gets_its_report(tmp_path: Path) -> None:
    """Under ``python -m cProfile`` the exit is the ordinary one: the profile is written after the
    program returns (pyinstrument and debuggers likewise)."""
    out = tmp_path / "heritage.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "server.cli", "--version"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "heritage, version" in done.stdout
    assert out.stat().st_size > 0
