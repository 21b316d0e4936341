"""The embedded engine: a Whoosh index of pages in the generation folder (``{gen}/index``).

:mod:`.schema` holds the schema and query translation, :mod:`.writer` the incremental writer,
:mod:`.reader` the read side behind :class:`~server.search.engines.SearchEngine`.
"""
