"""A mission's own base map: raster tiles in an MBTiles file (SQLite; PNG, JPEG or WebP),
served by ``truceline serve --tiles FILE`` at ``GET /tiles/{z}/{x}/{y}`` and drawn by the
dashboard under the incidents, offline.

MBTiles (1.3) numbers rows from the south (TMS); the web's tiles, Leaflet's among them,
from the north (XYZ): row ``2**z - 1 - y``. Vector tiles (``format: pbf``) are refused: the
dashboard draws raster tiles only.

>>> import sqlite3, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.mbtiles"
>>> with sqlite3.connect(path) as db:
...     _ = db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
...     _ = db.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
...     _ = db.execute("INSERT INTO tiles VALUES (1, 0, 0, ?)", (PNG_MAGIC + b"...",))
>>> tiles = MBTiles(path)
>>> tiles.tile(1, 0, 1)[:4], tiles.tile(1, 0, 0), tiles.media_type
(b'\\x89PNG', None, 'image/png')
>>> tiles.close()
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from .errors import UsageError

__all__ = ["PNG_MAGIC", "MBTiles"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def _sniff(data: bytes) -> str | None:
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class MBTiles:
    """An MBTiles file opened read-only; a :class:`~truceline.errors.UsageError` naming
    ``--tiles`` and the file if it is missing, not SQLite, not MBTiles or not raster."""

    def __init__(self, path: Path, option: str = "--tiles") -> None:
        self.path = Path(path)

        def bad(why: str) -> UsageError:
            return UsageError(option, f"{self.path}: {why}")

        if not self.path.is_file():
            raise bad("no such file")
        try:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise bad(f"not an SQLite file ({exc})") from None
        if "tiles" not in tables:
            self._db.close()
            raise bad("not an MBTiles file (it has no tiles table)")
        self._lock = threading.Lock()
        self.metadata: dict[str, str] = {}
        if "metadata" in tables:
            rows = self._db.execute("SELECT name, value FROM metadata").fetchall()
            self.metadata = {str(k): str(v) for k, v in rows}
        first = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        fmt = self.metadata.get("format", "").lower() or (
            _sniff(bytes(first[0])) if first else None
        )
        if fmt not in MEDIA:
            self._db.close()
            raise bad(f"tiles of format {fmt or 'unknown'}: only raster PNG, JPEG or WebP tiles")
        self.format = fmt
        self.media_type = MEDIA[fmt]
        zooms = self._db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        self.minzoom = int(self.metadata.get("minzoom") or zooms[0] or 0)
        self.maxzoom = int(self.metadata.get("maxzoom") or zooms[1] or 0)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` (y from the north), or None if the file has none."""
        if z < 0 or z > 30 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?",
                (z, x, 2**z - 1 - y),
            ).fetchone()
        return bytes(row[0]) if row else None

    def describe(self) -> dict[str, Any]:
        """What the page needs to draw the tiles: their URL, zooms, bounds and credit."""
        bounds = None
        try:
            w, s, e, n = (float(v) for v in self.metadata.get("bounds", "").split(","))
            bounds = [[s, w], [n, e]]
        except ValueError:
            pass
        return {
            "url": "/tiles/{z}/{x}/{y}",
            "format": self.format,
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": bounds,
            "name": self.metadata.get("name", self.path.stem),
            "attribution": self.metadata.get("attribution", ""),
        }

    def close(self) -> None:
        self._db.close()
