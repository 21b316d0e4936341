"""The catalog: the one owner of the published generations' SQL.

``shared`` holds the schema and ingest's write access (:class:`SharedCatalog`: item versions shared
by generations, each generation's own small catalog) and opens a generation for reading
(:func:`open_generation`); ``reads`` holds the typed reads every other module uses
(:class:`CatalogReader`, returning :class:`ItemRow`, :class:`PageRow`, :class:`CollectionRow`,
:class:`ImageRow`). Nothing outside this package writes SQL against a generation.
"""
from __future__ import annotations

from .reads import SERIAL_TYPES, CatalogReader, CollectionRow, ImageRow, ItemRow, PageRow, parse_data
from .shared import (
    SHARED,
    SharedCatalog,
    collect,
    create_catalog,
    generation_number,
    open_generation,
    shared_path,
)

__all__ = ["SERIAL_TYPES", "SHARED", "CatalogReader", "CollectionRow", "ImageRow", "ItemRow", "PageRow",
           "SharedCatalog", "collect", "create_catalog", "generation_number", "open_generation", "parse_data",
           "shared_path"]
