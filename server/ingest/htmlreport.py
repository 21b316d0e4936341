"""The HTML report every ingest and check leaves in the data folder, for the staff who fix the holdings.

One self-contained file per run under ``{HERITAGE_DATA}/reports/`` (the public site never serves
that folder): the summary, each problem grouped by item with what it means and how to fix it, a
thumbnail of the page for image and OCR problems, and the items by outcome. No JavaScript; plain
CSS that reads on a phone. Italian or English (``HERITAGE_UI_LANGUAGE``, else ``LANG``), from the
site's Babel catalog. Autoescaped throughout: file names and cell values are hostile input.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..holdings.model import Holdings, Problem
from .headers import thumbnail_data_uri

TEMPLATES = Path(__file__).resolve().parent / "templates"
KEEP_REPORTS = 20
THUMBNAILS_MAX = 200  # a report with thousands of broken pages stays a few MB
GENERAL = ""  # problems that belong to no item


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated when the report is rendered."""
    return message


# (pattern on the problem's message, what it means and how to fix it). First match wins.
HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), h) for p, h in (
    (r"not UTF-8", N_("The sheet is not saved as UTF-8 text, so accented letters would come out wrong. In Excel "
                      "use File › Save As › “CSV UTF-8”; in LibreOffice tick “Edit filter settings” and choose "
                      "Unicode (UTF-8).")),
    (r"cells but the header has", N_("This row has more cells than the header: a value contains the separator "
                                     "(comma or semicolon). Put that value in double quotes, or save the sheet "
                                     "again from Excel or LibreOffice, which adds the quotes for you.")),
    (r"malformed CSV|not a spreadsheet|cannot read the sheet", N_(
        "The sheet cannot be read as a table. Open it in Excel or LibreOffice, check the row named here, and save "
        "it again.")),
    (r"missing required column", N_("A column the sheet must have is missing. Add it to the first (header) row "
                                    "with exactly the name shown.")),
    (r"^missing|no folder items/|folder without a row", N_(
        "Each item needs both a row in the items sheet and a folder under items/ with exactly the same name as "
        "its id. Add the missing one, or correct the spelling so the two match.")),
    (r"appears twice", N_("Two columns have the same name; only the first is read. Rename or delete the "
                          "second one.")),
    (r"duplicate id", N_("Two rows have the same id; only the first is used. Give every row its own id.")),
    (r"not URL-safe|row without an id", N_("Ids become web addresses and folder names: use only letters, "
                                           "digits, “-” and “_”, without spaces or accents.")),
    (r"unknown collection|collection .* was rejected|unknown parent|form a cycle|is not published", N_(
        "This row points to a collection (or parent) that does not exist or has a problem of its own. Check the "
        "spelling of the id, or fix that collection first.")),
    (r"bad date|not a year|not a valid date|ends before it starts", N_(
        "Write dates as 1878, 1878-01 or 1878-01-03, and a period as 1921/1925. In a spreadsheet, format the "
        "column as text so the program does not change them.")),
    (r"rights must be", N_("The rights column must hold a licence address, such as "
                           "http://rightsstatements.org/vocab/InC/1.0/ or "
                           "https://creativecommons.org/licenses/by/4.0/. Copy it from the licence's web page.")),
    (r"unknown type|no type", N_("The type must be one of: document, book, newspaper, periodical, photograph, "
                                 "map, object.")),
    (r"no title|has no title", N_("Every item, collection and range needs a title: fill in the title column.")),
    (r"access must be", N_("The access column may only say public or restricted (or be left empty).")),
    (r"is restricted", N_("This item is marked restricted, so it is not published. Nothing to fix unless it "
                          "should be public.")),
    (r"language .* is not an ISO", N_("Write languages as ISO 639 codes: it, en, de, la, lat …, several "
                                      "separated by “ | ”.")),
    (r"first_page|last_page|outside the item|reaches outside", N_(
        "A range (chapter, article) names pages the item does not have, or ends before it starts. Page numbers "
        "count the item's images from 1, in the order they are published.")),
    (r"more than one image", N_("Two image files have the same name with different extensions. Keep one and move "
                                "the other out of the item folder.")),
    (r"has no page images", N_("The item folder holds no page image (TIFF, JPEG, PNG or JPEG 2000). Copy the "
                               "scans into it.")),
    (r"OCR file without a page image|more than one OCR file", N_(
        "Each OCR file must have the same name as its page image (0001.tif and 0001.xml). Rename it, or move "
        "the extra file out of the item folder.")),
    (r"entit|DOCTYPE|DTD", N_("The OCR file declares a DTD or entities, which could make the server read other "
                              "files. It is refused. Export the OCR again without a DOCTYPE, or ask the vendor "
                              "to.")),
    (r"well-formed|cannot parse|parseable|neither ALTO nor hOCR|unreadable OCR|ALTO without|not hOCR|empty file|"
     + r"WIDTH/HEIGHT", N_(
         "The OCR file is damaged or is not ALTO or hOCR (often a file cut off during copying). Copy it again "
         "from the original, or export it again from the OCR program. The page is still published, without its "
         "text.")),
    (r"not in the item folder|points outside the item folder|no image file of this page|has no file/@xlink|"
     + r"no structMap|cannot be read \(see above\)", N_(
         "The MAG or METS file names a file that is not in the item folder (or points outside it). Copy the "
         "file into the item folder, or correct its path in the metadata file; paths are read relative to the "
         "metadata file.")),
    (r"md5|checksum", N_("The file is not the one the metadata file describes (its checksum differs): it was "
                         "changed or damaged after delivery. Ask for the file again, or correct the checksum.")),
    (r"sheet value|sheet wins", N_("Both the sheet and the delivered metadata file give this value; the sheet's "
                                   "is used. Nothing to fix unless the sheet is wrong.")),
    (r"\.(tif|tiff|jpe?g|png|jp2|j2k): |unreadable image|cannot process image|not a readable image|"
     + r"unsupported", N_("The page image cannot be opened (damaged, cut off during copying, or not really an "
                        "image). Copy it again from the original scan, or export it again as TIFF or JPEG.")),
    (r"kept the previous publication|keep the previous publication", N_(
        "Because of the other problems of this item, the version already online stays online unchanged. Fix "
        "them and run ingest again to publish the new version.")),
    (r"no readable page", N_("None of the item's pages could be read, so the item is not published. Fix the "
                             "page images listed above.")),
))


# Unchanged items listed by name: the first ones only. A one-item change in a large archive has
# nothing to say of the rest, and listing them made the report grow with the archive (70 MB at ten
# million pages) — every item that needs attention (new, changed, kept, withdrawn) is always listed.
LISTED_UNCHANGED = 100


@dataclass
class ReportData:
    """What one run has to say, whichever command it was."""

    kind: str  # "check" or "ingest"
    holdings: Holdings
    problems: list[Problem]
    outcomes: Mapping[str, list[str]]
    pages: int = 0
    elapsed: float = 0.0
    generation: str = ""
    created: float = field(default_factory=time.time)


def ui_language(environ: Mapping[str, str] | None = None) -> str:
    """The operator's language, chosen as for the command line (``server/texts.py``): ``HERITAGE_UI_LANGUAGE``,
    else ``LC_ALL``/``LC_MESSAGES``/``LANG``; a language without a catalog is English."""
    from ..texts import cli_language
    return cli_language(environ)


def hint(message: str) -> str | None:
    """The plain-words explanation (an English msgid) for a problem message, if one fits."""
    for pattern, text in HINTS:
        if pattern.search(message):
            return text
    return None


def render(data: ReportData, language: str) -> str:
    from ..texts import render as render_text
    from ..web.i18n import load_catalogs
    catalogs = load_catalogs()
    translations = catalogs.get(language) or catalogs["en"]
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env.get_template("report.html").render(
        kind=data.kind, language=language, root=str(data.holdings.root), groups=_groups(data),
        outcomes=[(k, [(i, _title(data.holdings, i)) for i in (ids[:LISTED_UNCHANGED] if k == "unchanged" else ids)],
                   len(ids)) for k, ids in data.outcomes.items()],
        errors=sum(p.severity == "error" for p in data.problems),
        warnings=sum(p.severity == "warning" for p in data.problems),
        pages=data.pages, elapsed=f"{data.elapsed:.1f}", generation=data.generation,
        created=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(data.created)),
        hint=lambda m: translations.gettext(h) if (h := hint(m)) else "",
        message=lambda m: render_text(m, translations))


def write_report(data: ReportData, data_dir: Path, language: str | None = None) -> Path:
    """Write the report into ``data_dir/reports`` (keeping the last KEEP_REPORTS); returns its path."""
    folder = Path(data_dir) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(data.created))
    path = folder / f"{stamp}-{os.getpid()}-{data.kind}.html"
    tmp = folder / f".{path.name}.tmp"
    tmp.write_text(render(data, language or ui_language()), encoding="utf-8")
    os.replace(tmp, path)
    old = sorted(p for p in folder.glob("*.html") if p.is_file())
    for stale in old[:-KEEP_REPORTS]:
        stale.unlink(missing_ok=True)
    return path


def _title(holdings: Holdings, item_id: str) -> str:
    item = holdings.items.get(item_id)
    if item is None:
        return ""
    for values in item.title.values():
        if values:
            return values[0]
    return ""


def _page_images(holdings: Holdings, wanted: set[str] | None = None) -> dict[str, Path]:
    """Holdings-relative path of each page image and OCR file -> the page image (for thumbnails);
    only the paths in ``wanted`` when given (nothing to walk when no problem names a file)."""
    out: dict[str, Path] = {}
    if wanted is not None and not wanted:
        return out
    root = str(holdings.root)
    prefix = root if root.endswith("/") else root + "/"
    for item in holdings.items.values():
        for page in item.pages:
            for path in (page.image, page.ocr):
                if path is not None:
                    text = str(path)  # relative_to(root) as string ops: paths are built from the root
                    key = text.removeprefix(prefix)
                    if wanted is None or key in wanted:
                        out[key] = page.image
    return out


@dataclass
class Shown:
    problem: Problem
    thumbnail: str | None


def _groups(data: ReportData) -> list[tuple[str, str, list[Shown]]]:
    """(item id or GENERAL, item title, problems) with errors first, general problems first."""
    pages = _page_images(data.holdings, {p.file for p in data.problems if p.severity != "info"})
    order = {"error": 0, "warning": 1, "info": 2}
    groups: dict[str, list[Shown]] = {}
    thumbs = 0
    for p in sorted(data.problems, key=lambda p: (order[p.severity], p.file, p.line or 0)):
        thumb = None
        image = pages.get(p.file)
        if image is not None and p.severity != "info" and thumbs < THUMBNAILS_MAX:
            thumb = thumbnail_data_uri(image)
            thumbs += 1
        groups.setdefault(p.item_id or GENERAL, []).append(Shown(p, thumb))
    keys = sorted(groups, key=lambda k: (k != GENERAL, min(order[s.problem.severity] for s in groups[k]), k))
    return [(k, _title(data.holdings, k), groups[k]) for k in keys]
