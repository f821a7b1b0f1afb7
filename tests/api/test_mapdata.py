"""The map's layers beside the data (issue 20): the withdrawal bands in the agreement's
answer, the gazetteer's places in a box, the mission's MBTiles (rows flipped from TMS, the
right content type, cache headers), and `truceline serve --tiles` refusing a wrong file."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api import test_api
from tests.api.test_api import Service
from truceline.api import Settings, create_app
from truceline.cli import app as cli

prepared = test_api.prepared  # the service's fixtures, shared
svc = test_api.svc


def tile_png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, "PNG")
    return out.getvalue()


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png") -> Path:
    """An MBTiles file of ``tiles`` keyed by XYZ (z, x, y): stored with TMS rows."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB)"
        )
        zooms = [z for z, _, _ in tiles]
        meta = {"name": "mission", "format": fmt, "minzoom": min(zooms), "maxzoom": max(zooms)}
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, 2**z - 1 - y, data) for (z, x, y), data in tiles.items()],
        )
    db.close()
    return path


def test_the_agreement_answer_has_each_partys_withdrawal_bands(svc: Service) -> None:
    doc = svc.call("public", "GET", "/v1/agreement").json()
    bands = doc["bands"]["features"]
    within = {c["id"]: c["within_km"] for c in doc["clauses"] if c["within_km"]}
    parties = {p["id"] for p in doc["parties"]}
    assert {(f["properties"]["clause"], f["properties"]["party"]) for f in bands} == {
        (c, p) for c in within for p in parties
    }
    # widest first: the narrower bands are drawn over the wider
    widths = [f["properties"]["within_km"] for f in bands]
    assert widths == sorted(widths, reverse=True)
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in bands)


def test_places_in_a_box_most_populous_first(svc: Service) -> None:
    res = svc.call("public", "GET", "/v1/places?bbox=37.0,48.2,37.4,48.4&near=37.17706,48.30")
    assert res.status_code == 200, res.text
    assert "max-age" in res.headers["cache-control"]
    places = res.json()["places"]
    assert any(p["names"]["en"] == "Pokrovsk" and p["names"]["uk"] == "Покровськ" for p in places)
    pops = [p["population"] for p in places]
    assert pops == sorted(pops, reverse=True)
    assert all(37.0 <= p["lon"] <= 37.4 and 48.2 <= p["lat"] <= 48.4 for p in places)
    # the report's own words for where a point is
    assert res.json()["nearest"]["label"] == "2.2 km N of Pokrovsk"
    few = svc.call("public", "GET", "/v1/places?bbox=37.0,48.2,37.4,48.4&limit=2").json()
    assert few["places"] == places[:2] and few["nearest"] is None
    for bad in ("1,2,3", "a,b,c,d", "10,0,0,10", "0,0,1,1e9"):
        assert svc.call("public", "GET", f"/v1/places?bbox={bad}").status_code == 422, bad


def test_no_tiles_without_a_file(svc: Service) -> None:
    assert svc.call("public", "GET", "/v1/map").json() == {"tiles": None, "places": True}
    assert svc.call("public", "GET", "/tiles/0/0/0").status_code == 404


def test_the_missions_tiles_are_served_with_rows_flipped(
    prepared: tuple[Path, dict[str, str | None]], tmp_path: Path
) -> None:
    db, _ = prepared
    red, blue = tile_png((200, 30, 30)), tile_png((30, 30, 200))
    path = make_mbtiles(tmp_path / "m.mbtiles", {(1, 0, 0): red, (1, 0, 1): blue})
    with TestClient(create_app(Settings(db=db, tiles=path))) as client:
        desc = client.get("/v1/map").json()["tiles"]
        assert desc["url"] == "/tiles/{z}/{x}/{y}" and desc["maxzoom"] == 1
        res = client.get("/tiles/1/0/0")
        assert res.status_code == 200 and res.content == red  # XYZ row 0 is the north
        assert res.headers["content-type"] == "image/png"
        assert "max-age=86400" in res.headers["cache-control"]
        assert client.get("/tiles/1/0/1").content == blue
        again = client.get("/tiles/1/0/0", headers={"If-None-Match": res.headers["etag"]})
        assert again.status_code == 304
        for missing in ("/tiles/1/1/0", "/tiles/2/9/9", "/tiles/-1/0/0", "/tiles/40/0/0"):
            assert client.get(missing).status_code == 404, missing


@pytest.mark.parametrize("kind", ["missing", "not sqlite", "no tiles table", "vector"])
def test_serve_refuses_a_wrong_tiles_file_naming_it(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "t.mbtiles"
    if kind == "not sqlite":
        path.write_bytes(b"GIF89a" + b"\0" * 200)
    elif kind == "no tiles table":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.close()
    elif kind == "vector":
        make_mbtiles(path, {(0, 0, 0): b"\x1a\x00"}, fmt="pbf")
    res = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--tiles", str(path)])
    assert res.exit_code == 2, res.output
    said = " ".join(res.output.split())  # (the console wraps long lines)
    assert f"--tiles:{path}" in "".join(said.split())  # the option and the file
    assert {"missing": "no such file", "not sqlite": "not an SQLite file",
            "no tiles table": "no tiles table", "vector": "format pbf"}[kind] in said  # fmt: skip
    assert not (tmp_path / "x.db").exists()  # said before anything was opened
