"""Reading the holdings layout (HOLDINGS.md) into plain, validated dataclasses. Pure: reads, never writes."""
from ..ids import is_safe_id
from .model import (
    IMAGE_EXTENSIONS,
    ITEM_TYPES,
    Collection,
    DatePart,
    DateValue,
    ExtraField,
    Holdings,
    Item,
    LangMap,
    Page,
    Problem,
    Range,
    normalize_rights,
)
from .reader import natural_key, read_holdings

__all__ = ["IMAGE_EXTENSIONS", "ITEM_TYPES", "Collection", "DatePart", "DateValue", "ExtraField", "Holdings", "Item",
           "LangMap", "Page", "Problem", "Range", "is_safe_id", "natural_key", "normalize_rights", "read_holdings"]
