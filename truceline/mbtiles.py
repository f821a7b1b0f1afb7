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
>>> [[round(v, 2) for v in corner] for corner in tiles.bounds()]  # the south-west quarter
[[-85.05, -180.0], [0.0, 0.0]]
>>> tiles.close()
"""

from __future__ import annotations

import math
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

    def bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]] of the tiles: the metadata's ``bounds`` if it has
        them, else the extent of the tiles at the deepest zoom (so the page asks for no
        tile outside them)."""
        try:
            w, s, e, n = (float(v) for v in self.metadata.get("bounds", "").split(","))
            return [[s, w], [n, e]]
        except ValueError:
            pass
        with self._lock:
            x0, x1, r0, r1 = self._db.execute(
                "SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) "
                "FROM tiles WHERE zoom_level = ?",
                (self.maxzoom,),
            ).fetchone()
        if x0 is None:
            return [[-85.0511, -180.0], [85.0511, 180.0]]
        n = 2**self.maxzoom

        def lat(row: int) -> float:  # a TMS row's southern edge, in degrees
            return math.degrees(math.atan(math.sinh(math.pi * (2 * row / n - 1))))

        return [[lat(r0), x0 / n * 360 - 180], [lat(r1 + 1), (x1 + 1) / n * 360 - 180]]

    def describe(self) -> dict[str, Any]:
        """What the page needs to draw the tiles: their URL, zooms, bounds and credit."""
        return {
            "url": "/tiles/{z}/{x}/{y}",
            "format": self.format,
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": self.bounds(),
            "name": self.metadata.get("name", self.path.stem),
            "attribution": self.metadata.get("attribution", ""),
        }

    def close(self) -> None:
        self._db.close()
