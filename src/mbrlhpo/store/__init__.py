"""mbrlhpo.store: the SQLite study store."""

from mbrlhpo.store.sqlite_store import StoreError, StudyStore

__all__ = ["StoreError", "StudyStore"]
