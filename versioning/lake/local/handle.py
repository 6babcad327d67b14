"""The handle of one open local repository: its catalog, object store and tree-node cache.

The backend (``backend.py``) opens handles; maintenance (``maintenance.py``: gc, fsck) works
on them. Both import this module, neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from versioning.lake.local import tree
from versioning.lake.local.metadata import Catalog
from versioning.lake.local.objects import ObjectStore

#: The catalog's file name under a repository's directory.
CATALOG_FILE = "catalog.sqlite3"
#: Tree nodes read per query by a batched load (well under SQLite's limit of bound values).
NODE_BATCH = 500


@dataclass
class RepositoryHandle:
    """One repository of a local lake: ``root`` holds ``catalog`` and ``objects``."""

    name: str
    root: Path
    catalog: Catalog
    objects: ObjectStore
    cache: tree.NodeCache

    @classmethod
    def open(
        cls, name: str, root: Path, *, fsync: bool = True, lock_timeout_s: float = 60.0
    ) -> RepositoryHandle:
        """A handle on the repository directory ``root`` (nothing is read yet)."""
        return cls(
            name,
            root,
            Catalog(root / CATALOG_FILE, fsync=fsync, lock_timeout_s=lock_timeout_s),
            ObjectStore(root / "objects", fsync=fsync),
            tree.NodeCache(),
        )

    def nodes(self) -> tree.NodeStore:
        """A node store for one operation (reads shared, writes private)."""
        return tree.NodeStore(self._load_node, self.cache, self._load_nodes)

    def _load_node(self, nid: str) -> bytes | None:
        row = (
            self.catalog.connection()
            .execute("SELECT data FROM nodes WHERE id = ?", (nid,))
            .fetchone()
        )
        return None if row is None else row[0]

    def _load_nodes(self, nids: list[str]) -> dict[str, bytes]:
        """The stored nodes among ``nids``, a few queries for any number of ids."""
        found: dict[str, bytes] = {}
        conn = self.catalog.connection()
        for start in range(0, len(nids), NODE_BATCH):
            batch = nids[start : start + NODE_BATCH]
            marks = ",".join("?" * len(batch))
            query = f"SELECT id, data FROM nodes WHERE id IN ({marks})"
            found.update(conn.execute(query, batch).fetchall())
        return found
