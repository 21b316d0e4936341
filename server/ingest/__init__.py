"""Ingest: holdings folder → a new, complete publication generation, switched in atomically."""
