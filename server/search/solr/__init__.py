"""The SolrCloud engine: pages as documents of one collection shared by every generation.

Consistency with publication generations: every document carries ``iv``, an *item version* — a
random id given when ingest indexes an item, recorded in that item's entry of the generation's
description (``heritage-search.json``) and carried over while the item is unchanged — and ``g``,
when its ingest started. A generation searches its publication's documents with ``g`` up to its
own, less the versions on disk when it was built that it does not list
(:func:`.reader.generation_filter`, one cached filter); within an item, that item's version. So
documents from a failed or SIGKILLed ingest, or from a generation not yet switched to, are never
answered for the generation being served. Versions no generation on disk lists any more are
deleted when the next ingest starts (:func:`.writer.collect_garbage`).

Incremental: an unchanged item keeps its version and documents; a changed item gets a new version
(its old documents stay for the generation still served until they are collected).

Analysis: ingest sends each page's folded tokens (:mod:`server.search.analysis` splits words, so
token *i* in Solr is token *i* of the word store and hits map to word boxes), one field per page
language whose analyzer in the configset folds and stems with Snowball (:mod:`.query`), plus an
unstemmed folded field ``f`` for prefixes and fuzzy terms. Fields keep positions: phrases are exact
at any scale, across line breaks and hyphenated words too.

Site-wide: every page document also carries its item's facet values, so Solr counts the facets
(distinct items per value), the totals and the order of a results page (:mod:`.site`); the
server receives one bucket per facet value and the page's items, never one per matching item.
"""
