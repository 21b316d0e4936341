"""The ``heritage`` command: a contract other tools script against (ingest, serve, demo, export)."""
from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import click

from .config import PROJECT_ROOT, Settings, demo_data_dir

DEMO_HOLDINGS = PROJECT_ROOT / "examples" / "holdings"


@click.group(help="Heritage Lab: publish digitized holdings as IIIF (Image 3.0, Presentation 3.0, Content Search).")
@click.version_option(package_name="heritage-lab")
def main() -> None:
    pass


@main.command()
@click.argument("holdings_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Rebuild everything, even unchanged items.")
@click.option("--workers", type=int, default=None, help="Parallel processes (default: one per core).")
def ingest(holdings_dir: Path, force: bool, workers: int | None) -> None:
    """Ingest HOLDINGS_DIR into a new publication (pyramids, catalog, manifests, index), then switch to it."""
    settings = Settings.load({"workers": workers} if workers is not None else None)
    report = _run_ingest(holdings_dir, settings, force)
    click.echo(report.summary())  # problems and counts, in Italian or English (server/texts.py)
    if report.html_report:
        click.echo(f"report: {report.html_report}")
    if report.errors:
        sys.exit(1)


@main.command()
@click.argument("holdings_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(holdings_dir: Path) -> None:
    """Check HOLDINGS_DIR as ingest would (sheets, files, image headers, OCR) without publishing anything;
    list what ingest would publish, change and withdraw; write the HTML report. Exit 1 on errors."""
    from .ingest.check import run_check
    from .ingest.htmlreport import ReportData, write_report
    settings = Settings.load()
    report = run_check(holdings_dir, settings)
    click.echo(report.summary())
    data = ReportData("check", report.holdings, report.problems, report.outcomes, report.pages, report.elapsed)
    try:
        click.echo(f"report: {write_report(data, settings.data)}")
    except OSError as exc:
        click.echo(f"cannot write the HTML report: {exc}", err=True)
    if report.errors:
        sys.exit(1)


def _run_ingest(holdings_dir: Path, settings: Settings, force: bool) -> Any:
    """run_ingest, with a run-stopping error (another ingest running, a full disk) said in one line."""
    from .holdings.scan import start_scan
    from .workers import worker_count
    scan = start_scan(holdings_dir, worker_count(settings.workers))  # at once: the helpers scan the item
    from .errors import HeritageError  # folders while ingest's modules load
    from .ingest.run import run_ingest
    from .texts import N_, render
    try:
        return run_ingest(holdings_dir, settings, force=force, progress=sys.stderr.isatty(), scan=scan)
    except HeritageError as exc:  # e.g. another ingest holds the lock: a sentence, not a traceback
        click.echo(render(N_("heritage: %(reason)s", reason=exc.message)), err=True)
        sys.exit(1)


def _serve_options(command: Any) -> Any:
    """The options ``serve`` and ``demo`` share."""
    for option in reversed([
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", default=8000, show_default=True, type=int),
        click.option("--server", "server", type=click.Choice(["granian", "gthread", "gunicorn-sync"]), default=None,
                     help="The HTTP server (default: HERITAGE_SERVER, granian); see bench/README.md."),
        click.option("--workers", default=None, type=int,
                     help="Worker processes (default: granian cores, gthread cores + 1, gunicorn-sync 2 × cores + 1)."),
        click.option("--access-log/--no-access-log", default=None,
                     help="Log each request to stdout (default: HERITAGE_ACCESS_LOG, on)."),
    ]):
        command = option(command)
    return command


def _check_port(host: str, port: int) -> None:
    """Exit with a hint before anything starts when the server could not listen there."""
    from .serving import port_problem
    problem = port_problem(host, port)
    if problem is not None:
        click.echo(f"heritage: {problem.message}", err=True)
        sys.exit(1)


@main.command()
@_serve_options
def serve(host: str, port: int, server: str | None, workers: int | None, access_log: bool | None) -> None:
    """Serve the current publication (production server: granian, or gunicorn with --server)."""
    settings = Settings.load()
    chosen = _server(server, settings)
    _check_port(host, port)
    _run_server(chosen, host, port, workers, _access_log(access_log, settings))


@main.command()
@_serve_options
def demo(host: str, port: int, server: str | None, workers: int | None, access_log: bool | None) -> None:
    """Ingest the bundled sample holdings (examples/holdings) and serve them."""
    # the demo keeps to its own folder unless HERITAGE_DATA says where: never over your own data
    settings = Settings.load(None if os.environ.get("HERITAGE_DATA") else {"data": demo_data_dir()})
    chosen = _server(server, settings)
    _check_port(host, port)
    click.echo(f"Demo data: {settings.data}")
    report = _run_ingest(DEMO_HOLDINGS, settings, False)
    click.echo(report.summary())
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
    _check_port(host, port)  # ingest takes a while: the port may have been taken meanwhile
    click.echo(f"Heritage Lab demo: http://{shown}:{port}/  (top collection: http://{shown}:{port}/iiif/3/collection/top)")
    _run_server(chosen, host, port, workers, _access_log(access_log, settings), settings.data)


def _run_server(server: str, host: str, port: int, workers: int | None, access_log: bool,
                data: Path | None = None) -> None:
    """run_server, with a wrong setting said in one line instead of a traceback."""
    from .serving import run_server
    try:
        run_server(server, host, port, workers, access_log, data)
    except ValueError as exc:
        click.echo(f"heritage: {exc}", err=True)
        sys.exit(2)


def _server(flag: str | None, settings: Settings) -> str:
    """--server, else HERITAGE_SERVER; an unknown name exits with the choices before anything starts."""
    from .serving import SERVERS
    chosen = flag or settings.server
    if chosen not in SERVERS:
        click.echo(f"heritage: HERITAGE_SERVER={chosen!r} is not a server; choose one of {', '.join(SERVERS)}.", err=True)
        sys.exit(2)
    return chosen


@main.command("solr-setup")
@click.option("--url", default=None, help="Solr root URL (default: HERITAGE_SOLR_URL).")
@click.option("--collection", default=None, help="Collection name (default: HERITAGE_SOLR_COLLECTION or heritage).")
@click.option("--shards", type=click.IntRange(1, 256), default=1, show_default=True)
@click.option("--replicas", type=click.IntRange(1, 16), default=1, show_default=True)
def solr_setup(url: str | None, collection: str | None, shards: int, replicas: int) -> None:
    """Upload the search configset to SolrCloud and create the collection (see docs/search.md)."""
    from .search.engines import DEFAULT_COLLECTION, SearchUnavailable
    from .search.solr.client import SolrClient
    from .search.solr.setup import setup
    url = url or os.environ.get("HERITAGE_SOLR_URL")
    if not url:
        raise click.UsageError("give --url or set HERITAGE_SOLR_URL")
    name = collection or os.environ.get("HERITAGE_SOLR_COLLECTION") or DEFAULT_COLLECTION
    try:
        created = setup(SolrClient(url, name), shards=shards, replicas=replicas)
    except SearchUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'created' if created else 'updated'} collection {name!r} (configset {name!r})")


def _access_log(flag: bool | None, settings: Settings) -> bool:
    return settings.access_log if flag is None else flag


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", required=True, help="The public URL the files will be served at (ids and links use it).")
def export(out_dir: Path, base_url: str) -> None:
    """Export the current publication as static files in OUT_DIR: pages, IIIF (Image API level 0), search index."""
    from .errors import HeritageError
    from .export import export_site
    try:
        report = export_site(Settings.load(), out_dir, base_url, progress=sys.stderr.isatty())
    except HeritageError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


def run() -> NoReturn:
    """The ``heritage`` console script: :func:`main`, then an exit without the interpreter's teardown.

    A command that read the archive (ingest, check) ends with an object per page and per file still
    alive; the interpreter frees them one by one at exit. That did nothing useful and took 0.19 s of
    a 1.4 s one-item change at 20,000 pages (0.1 s at 2,000): time that grows with the archive.
    So, as an interpreter's exit would, the ``atexit`` handlers run (logging is flushed there) and
    the standard streams are flushed; then the process ends (``os._exit``). Every file the commands
    write is closed before they return. Not while another (non-daemon) thread still runs: that
    exit waits for it, as usual; nor under a profiler or a debugger (``python -m cProfile``,
    pyinstrument, pdb), which report after the program returns."""
    try:
        main.main(prog_name="heritage")
    except SystemExit as stop:
        code = stop.code
    else:  # pragma: no cover - click's standalone mode always ends in SystemExit
        code = 0
    if sys.getprofile() is not None or sys.gettrace() is not None or \
            any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # what the interpreter does with sys.exit("message")
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # the handlers an exit runs (CPython's own hook: private, there since Python 2)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            status = status or 1
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
