"""The command line end to end: exit codes, messages, and the store left untouched on error."""

from __future__ import annotations

import itertools
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import without_ids
from truceline.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and subcommand, as the words that call it and its click command."""
    import typer.main

    root = typer.main.get_command(app)
    out = []

    def walk(words: list[str], cmd: Any) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk([*words, name], sub)
        else:
            out.append((words, cmd))

    walk([], root)
    return out


def test_every_command_explains_itself_and_each_of_its_options() -> None:
    commands = _commands()
    assert {"analyze", "serve", "report", "reproduce"} <= {w[0] for w, _ in commands}
    for words, cmd in commands:
        code, text = run(*words, "--help")
        flat = " ".join(text.split())
        assert code == 0, words
        first = (cmd.help or "").split("\n")[0]
        assert first and " ".join(first.split())[:40] in flat, (words, first)
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in flat, (words, opt)


def test_a_missing_store_and_a_binary_file_are_bad_input(tmp_path: Path) -> None:
    code, text = run("log", "sth", "--db", tmp_path / "none.db")
    assert code == 2 and "none.db: no such store" in " ".join(text.split())
    assert not (tmp_path / "none.db").exists()
    binary = tmp_path / "fires.csv"
    binary.write_bytes(b"LATITUDE,LONGITUDE,ACQ_DATE\n48.1,37.2,2022-03-01\n\xff\xfe\x00\n")
    code, text = run("ingest", "--db", tmp_path / "t.db", binary)
    assert code == 2 and f"{binary}:3: not UTF-8 text" in "".join(text.split("\n"))
    assert not (tmp_path / "t.db").exists()


def test_full_batch_run_and_determinism(scenario: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    code, text = run("ingest", "--db", db, scenario / "observations.jsonl")
    assert code == 0 and "accepted" in text
    code, text = run("ingest", "--db", db, scenario / "observations.jsonl")
    assert code == 0 and "accepted 0" in text

    code, text = run(
        "analyze", "--db", db, "--agreement", scenario / "agreement.yaml", "--out", tmp_path / "a"
    )
    assert code == 0, text
    assert "stored as run 1" in text

    # the same observations, shuffled, straight from a file: the same incidents (their ids
    # differ: a stored observation's log entry is salted, and ids are over leaf hashes)
    lines = (scenario / "observations.jsonl").read_text().splitlines()
    random.Random(3).shuffle(lines)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(lines) + "\n")
    code, text = run(
        "analyze", "--agreement", scenario / "agreement.yaml", "--out", tmp_path / "b", shuffled
    )
    assert code == 0, text
    a = (tmp_path / "a" / "incidents.geojson").read_bytes()
    b = (tmp_path / "b" / "incidents.geojson").read_bytes()
    assert without_ids(a) == without_ids(b)
    # ... and byte-identical files from the same files in any order
    random.Random(4).shuffle(lines)
    shuffled.write_text("\n".join(lines) + "\n")
    code, text = run(
        "analyze", "--agreement", scenario / "agreement.yaml", "--out", tmp_path / "c", shuffled
    )
    assert code == 0, text
    assert b == (tmp_path / "c" / "incidents.geojson").read_bytes()
    doc = json.loads(a)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) > 10
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["inputs"]["observations"] == len(lines)

    code, text = run(
        "evaluate",
        "--truth",
        scenario / "truth.jsonl",
        "--incidents",
        tmp_path / "a" / "incidents.geojson",
        "--json",
    )
    assert code == 0
    assert json.loads(text)["kinds"]["fire"]["matched"] > 0


def _corrupt(line: str, how: str) -> str:
    rec = json.loads(line)
    if how == "missing":
        rec.pop("time")
    elif how == "type":
        rec["position"] = "here"
    elif how == "latitude":
        rec["position"] = [rec["position"][0], 133.0, *rec["position"][2:]]
    elif how == "time":
        rec["time"] = "2026-03-01 12:00"
    elif how == "truncated":
        return line[: len(line) // 2]
    return json.dumps(rec)


@pytest.mark.parametrize("how", ["missing", "type", "latitude", "time", "truncated"])
def test_bad_input_leaves_the_store_byte_for_byte(scenario: Path, tmp_path: Path, how: str) -> None:
    db = tmp_path / "t.db"
    lines = (scenario / "observations.jsonl").read_text().splitlines()
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(lines[:100]) + "\n")
    assert run("ingest", "--db", db, first)[0] == 0
    before = db.read_bytes()

    acoustic = next(i for i, line in enumerate(lines) if '"acoustic"' in line and i > 100)
    bad_lines = [*lines[100:200], _corrupt(lines[acoustic], how), *lines[200:300]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(bad_lines) + "\n")
    code, text = run("ingest", "--db", db, bad)
    assert code == 2
    assert f"{bad}:101:" in text.replace("\n", "")
    assert db.read_bytes() == before
    assert not (tmp_path / "t.db-wal").exists() or (tmp_path / "t.db-wal").stat().st_size == 0


def test_wrong_party_in_allegation_is_rejected_with_agreement(
    scenario: Path, tmp_path: Path
) -> None:
    lines = (scenario / "observations.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if '"allegation"' in line)
    rec = json.loads(lines[i])
    rec["accused"] = "ZZ"
    lines[i] = json.dumps(rec)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    code, text = run(
        "ingest", "--db", tmp_path / "t.db", "--agreement", scenario / "agreement.yaml", bad
    )
    assert code == 2 and "accused: unknown party 'ZZ'" in text
    assert not (tmp_path / "t.db").exists()


def test_bad_agreement_exit_code(scenario: Path, tmp_path: Path) -> None:
    shutil.copytree(scenario, tmp_path / "s")
    text = (
        (tmp_path / "s" / "agreement.yaml").read_text().replace("within_km: 25", "within_km: far")
    )
    (tmp_path / "s" / "agreement.yaml").write_text(text)
    code, out = run(
        "analyze",
        "--agreement",
        tmp_path / "s" / "agreement.yaml",
        "--out",
        tmp_path / "o",
        tmp_path / "s" / "observations.jsonl",
    )
    assert code == 2 and "within_km" in out
    assert not (tmp_path / "o").exists()


def test_simulate_is_reproducible(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run("simulate", "--out", tmp_path / name, "--seed", "5", "--hours", "2")[0] == 0
    for f in ("agreement.yaml", "control.geojson", "observations.jsonl", "truth.jsonl"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert run("simulate", "--out", tmp_path / "c", "--seed", "6", "--hours", "2")[0] == 0
    assert (tmp_path / "a" / "observations.jsonl").read_bytes() != (
        tmp_path / "c" / "observations.jsonl"
    ).read_bytes()


def _help(words: list[str]) -> str:
    res = runner.invoke(
        app, [*words, "--help"], env={"COLUMNS": "80", "TERM": "dumb"}, terminal_width=80
    )
    assert res.exit_code == 0, res.output
    return res.output


def test_help_reads_well_at_80_columns_with_types_as_words() -> None:
    for words, _ in _commands():
        text = _help(words)
        assert max(len(line) for line in text.splitlines()) <= 80, words
        for python_name in ("<list[", "<path>", "<int", "<float", "<str>", "<bool>"):
            assert python_name not in text, (words, python_name)
        # the description is reflowed: no hard break from the docstring leaves a short line
        # followed by the rest of its sentence
        body = text.split("╭", 1)[0].splitlines()
        for line, nxt in itertools.pairwise(body):
            words_here, words_next = line.strip(), nxt.strip()
            if words_here and words_next and words_next[0].islower():
                assert len(line.rstrip()) > 55, (words, line)
    assert "PATH..." in _help(["ingest"]) and "INTEGER" in _help(["export"])


@pytest.fixture()
def terminal(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Standard error as a terminal, so that the progress bars are drawn (into a buffer)."""
    import io

    from rich.console import Console

    from truceline.cli import _app

    buf = io.StringIO()
    monkeypatch.setattr(_app, "err", Console(file=buf, force_terminal=True, width=100))
    return buf


def test_what_a_person_waits_for_shows_progress(
    scenario: Path, tmp_path: Path, terminal: Any
) -> None:
    db = tmp_path / "t.db"
    steps = [
        (["ingest", "--db", db, scenario / "observations.jsonl"], "checking, signing and storing"),
        (["analyze", "--db", db, "--agreement", scenario / "agreement.yaml", "--out", tmp_path / "a"],
         "locating acoustic events"),
        (["report", "--db", db, "--date", "2026-03-01", "--out", tmp_path / "r", "--format", "md"],
         "daily reports"),
        (["export", "--db", db, "--format", "csv", "--out", tmp_path / "i.csv"], "exporting"),
    ]  # fmt: skip
    for args, label in steps:
        start = terminal.tell()
        code, out = run(*args)
        assert code == 0, out
        assert label in terminal.getvalue()[start:], label


def test_the_first_and_last_days_of_the_calendar(scenario: Path, tmp_path: Path) -> None:
    """Observations of the years 1 and 9999 are analysed (times keep four-digit years) and
    reported; a report whose 30-day trend would begin before the year 1 is refused."""
    lines = (scenario / "observations.jsonl").read_text().splitlines()
    first = next(o for o in map(json.loads, lines) if o["type"] == "patrol")
    edges = tmp_path / "edges.jsonl"
    edges.write_text(
        "".join(
            json.dumps(first | {"id": f"edge-{k}", "time": t, "time_end": t}) + "\n"
            for k, t in enumerate(("0001-01-01T12:00:00Z", "9999-12-31T12:00:00Z"))
        )
    )
    db = tmp_path / "t.db"
    code, text = run("ingest", "--db", db, edges)
    assert code == 0, text
    code, text = run(
        "analyze", "--db", db, "--agreement", scenario / "agreement.yaml", "--out", tmp_path / "a"
    )
    assert code == 0, text
    times = [
        f["properties"]["time_start"]
        for f in json.loads((tmp_path / "a" / "incidents.geojson").read_text())["features"]
    ]
    assert "0001-01-01T12:00:00Z" in times
    code, text = run(
        "report", "--date", "9999-12-31", "--db", db, "--out", tmp_path / "r", "--format", "md"
    )
    assert code == 0 and (tmp_path / "r" / "report-9999-12-31.md").exists(), text
    code, text = run("report", "--date", "0001-01-01", "--db", db, "--out", tmp_path / "r")
    assert code == 2 and "--date: must be on or after 0001-01-31" in text
