"""Live operation: provisional incidents while a day arrives, and once its windows have
passed the very incidents of ``truceline analyze`` on the same store, whatever the order and
delays of arrival; late data revises the final result and the revision is logged."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from truceline.agreement import Agreement, agreement_files, load_agreement
from truceline.cli import app
from truceline.errors import UsageError
from truceline.live import LiveWindow
from truceline.observations import Observation, ObservationBatch
from truceline.simulate import simulate
from truceline.sources import read_observations
from truceline.store.live import LiveAnalyser
from truceline.store.sqlite import SqliteStore

S = 1_000_000
DAY_SEED = 11
DAY_HOURS = 2.0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Agreement, list[Observation]]:
    out = tmp_path_factory.mktemp("live_day")
    simulate(out, seed=DAY_SEED, hours=DAY_HOURS)
    obs = read_observations([out / "observations.jsonl"]).observations
    return out, load_agreement(out / "agreement.yaml"), obs


def _arrivals(
    obs: list[Observation], rng: random.Random, late_share: float
) -> list[list[Observation]]:
    """The day as it reaches the API: each observation after a delay (seconds to a minute;
    ``late_share`` of them up to 40 minutes late), shuffled within a batch, in batches of
    ten minutes of arrival time."""
    timed = []
    for o in obs:
        late = rng.random() < late_share
        delay = rng.uniform(60, 2400) if late else rng.uniform(0, 60)
        timed.append((o.time_us + round(delay * S), rng.random(), o))
    timed.sort(key=lambda x: (x[0], x[1]))
    batches: dict[int, list[Observation]] = {}
    for at, _, o in timed:
        batches.setdefault(at // (600 * S), []).append(o)
    return [batches[k] for k in sorted(batches)]


def _batch_text(db: Path, scenario: Path, out: Path) -> str:
    res = CliRunner().invoke(
        app,
        [
            "analyze",
            "--db",
            str(db),
            "--agreement",
            str(scenario / "agreement.yaml"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    return (out / "incidents.geojson").read_text(encoding="utf-8")


def _stream(
    tmp: Path, scenario: Path, ag: Agreement, batches: list[list[Observation]], final_at: int
) -> tuple[SqliteStore, LiveAnalyser, list[Any]]:
    store = SqliteStore(tmp / "live.db")  # its key beside it, as the command line expects
    live = LiveAnalyser(store, ag, agreement_files(scenario / "agreement.yaml"), tmp / "live")
    steps = []
    for k, part in enumerate(batches):
        store.add_observations(ObservationBatch(part))
        steps.append(live.step())
        if k == final_at:
            steps.append(live.finalise())  # a quiet spell: what came so far is finalised
    steps.append(live.finalise())  # the windows have passed
    return store, live, steps


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # one example takes seconds: report, do not shrink
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1), late=st.sampled_from([0.0, 0.05, 0.3]), cut=st.floats(0.2, 0.8)
)
def test_live_equals_batch_whatever_the_arrival_order_and_delays(
    day: tuple[Path, Agreement, list[Observation]],
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    late: float,
    cut: float,
) -> None:
    scenario, ag, obs = day
    tmp = tmp_path_factory.mktemp("live")
    batches = _arrivals(obs, random.Random(seed), late)
    store, _live, steps = _stream(tmp, scenario, ag, batches, int(cut * len(batches)))
    with store:
        shown = store.incidents()
        assert {s.action for s in steps} >= {"provisional", "final"}
        assert store.count_observations() == len(obs)
        # while the day arrived, what was shown was marked provisional
        provisional_runs = [s.run_id for s in steps if s.action == "provisional"]
        assert any(
            f["properties"].get("provisional") for f in store.incidents(provisional_runs[-1])
        )
        assert not any(f["properties"].get("provisional") for f in shown)
    live_text = (tmp / "live" / "incidents.geojson").read_text(encoding="utf-8")
    batch_text = _batch_text(tmp / "live.db", scenario, tmp / "batch")
    assert live_text == batch_text  # byte-identical: same ids, same fields
    with SqliteStore(tmp / "live.db") as store:
        assert shown == json.loads(batch_text)["features"] == store.incidents()


def test_late_data_after_the_final_run_is_analysed_and_the_revision_logged(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    scenario, ag, obs = day
    ordered = sorted(obs, key=lambda o: (o.time_us, o.ref))
    held = [o for o in ordered if o.type == "acoustic"][200:260]  # an hour late
    first = [o for o in ordered if o not in held]
    store, _live, steps = _stream(tmp_path, scenario, ag, [first, held], final_at=0)
    with store:
        late_step = steps[2]
        assert late_step.action == "provisional" and late_step.observations == len(held)
        span = late_step.span
        assert span is not None and span[0] <= min(o.time_us for o in held)
        final = steps[-1]
        assert final.action == "final" and final.revision is not None
        assert final.revision["added"] and final.revision["removed"]
        logged = [json.loads(e) for e in store.entries()]
        revisions = [e for e in logged if e["kind"] == "live_revision"]
        assert [r["run"] for r in revisions] == [final.run_id]
        assert revisions[0]["added"] == final.revision["added"]


def test_the_window_comes_from_the_analysis_constants() -> None:
    from truceline.fusion import FusionParams

    w = LiveWindow.of(FusionParams(uav_window_h=1.0, thermal_window_h=2.0))
    assert w.reach_s("acoustic") == pytest.approx(300 + 30_000 / 306.2 + 25)
    assert w.reach_s("thermal") == pytest.approx(w.acoustic_s + 7200)
    assert w.final_s == pytest.approx(w.acoustic_s + 7200)
    assert LiveWindow.of().final_s > 24 * 3600  # a UAV sighting may join a day later


def test_a_step_with_nothing_new_waits_then_finalises(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    scenario, ag, obs = day
    now = [0.0]
    with SqliteStore(tmp_path / "t.db", tmp_path / "t.key") as store:
        live = LiveAnalyser(
            store,
            ag,
            agreement_files(scenario / "agreement.yaml"),
            tmp_path / "o",
            settle_s=30.0,
            clock=lambda: now[0],
        )
        assert live.step().action == "idle"  # nothing stored yet, nothing shown
        store.add_observations(ObservationBatch(obs[:300]))
        assert live.step().action == "provisional"
        now[0] = 29.0
        assert live.step().action == "idle"
        now[0] = 30.0
        assert live.step().action == "final"
        assert live.step().action == "idle"
        # a restarted analyser goes on from where the latest run read the log
        again = LiveAnalyser(
            store, ag, agreement_files(scenario / "agreement.yaml"), tmp_path / "o"
        )
        assert again.seen <= live.seen and not again.pending


def test_a_window_that_locates_nothing_is_analysed(
    day: tuple[Path, Agreement, list[Observation]],
) -> None:
    """A live window can hold a few picks that make no event (the first seconds of a day):
    the analysis gives no incident instead of failing in the locator."""
    from truceline.analysis import analyze

    _, ag, obs = day
    picks = sorted((o for o in obs if o.type == "acoustic"), key=lambda o: o.time_us)[:3]
    assert analyze(picks, ag).incidents == []


def test_replay_posts_the_day_with_each_sources_own_token(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from truceline.api import Settings, create_app
    from truceline.cli.live import _provision, post_day
    from truceline.live import replay_role

    _, _, obs = day
    first = min(o.time_us for o in obs)
    part = [o for o in obs if o.time_us < first + 1200 * S]  # the first 20 minutes
    keys = _provision(part, tmp_path / "r.db", None, None)
    assert set(keys) == {o.model.source for o in part}
    with SqliteStore(tmp_path / "r.db") as store:
        holders = {s: store.token_holder(k) for s, k in keys.items()}
    assert all(
        h is not None and h[1] == replay_role(o) for o in part for h in [holders[o.model.source]]
    )
    settings = Settings(db=tmp_path / "r.db", rate_per_s=1e6, burst=10**6)
    with TestClient(create_app(settings)) as client:
        answered: list[int] = []
        sent, _ = post_day(
            part, keys, client, speed=1e9, sent_at=lambda t, o: answered.append(len(o))
        )
        assert sent == len(part) == sum(answered)
        # a sensor's token does not carry another sensor's detections
        sensors = sorted({o.model.source for o in part if o.type == "acoustic"})
        other = next(o for o in part if o.model.source == sensors[1])
        with pytest.raises(UsageError, match="answered 403"):
            post_day([other], {sensors[1]: keys[sensors[0]]}, client, speed=1e9)
    with SqliteStore(tmp_path / "r.db") as store:
        assert store.count_observations() == len(part)


def test_picks_are_analysed_before_what_reaches_hours_back(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    scenario, ag, obs = day
    ordered = sorted(obs, key=lambda o: (o.time_us, o.ref))
    thermal = next(o for o in reversed(ordered) if o.type == "thermal")
    picks = [o for o in ordered if o.type == "acoustic"][-40:]
    first = [o for o in ordered if o is not thermal and o not in picks]
    with SqliteStore(tmp_path / "t.db") as store:
        live = LiveAnalyser(store, ag, agreement_files(scenario / "agreement.yaml"), tmp_path)
        store.add_observations(ObservationBatch(first))
        assert live.step().action == "provisional"  # the picks
        assert live.step().action == "provisional"  # the thermal passes among them
        assert live.step().action == "idle"
        store.add_observations(ObservationBatch([thermal, *picks]))
        step = live.step()
        assert step.observations == len(picks) and step.span is not None
        assert step.span[0] > thermal.time_us - 3600 * S  # the picks' stretch only
        step = live.step()  # then the thermal pass, twelve hours back
        assert step.observations == 1 and step.span is not None
        assert step.span[0] <= thermal.time_us - 12 * 3600 * S
        assert live.step().action == "idle"


def test_live_on_both_stores(
    day: tuple[Path, Agreement, list[Observation]], open_store: Any, tmp_path: Path
) -> None:
    """SQLite and PostgreSQL: a stretch analysed live, then the final run equal to the
    batch analysis of the store's log."""
    from truceline.analysis import analyze
    from truceline.incidents import dumps, feature_collection

    scenario, ag, obs = day
    ordered = sorted(obs, key=lambda o: (o.time_us, o.ref))[:1500]
    with open_store() as store:
        live = LiveAnalyser(store, ag, agreement_files(scenario / "agreement.yaml"), tmp_path)
        store.add_observations(ObservationBatch(ordered[:700]))
        assert live.step().action == "provisional"
        store.add_observations(ObservationBatch(ordered[700:]))
        assert live.step().action == "provisional"
        assert any(f["properties"].get("provisional") for f in store.incidents())
        live.finalise()
        batch = analyze(list(store.logged_observations()), ag)
        text = dumps(feature_collection(batch.incidents, ag.frame))
        assert store.incidents() == json.loads(text)["features"]


def _analysers_of(db: Path) -> list[int]:
    """The processes running `truceline live` on ``db``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"live" in args and str(db).encode() in args and proc.name.isdigit():
            pids.append(int(proc.name))
    return pids


def test_serve_live_runs_the_analyser_beside_the_api_and_stops_it_with_it(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    import httpx

    from tests.web.browser import serving
    from truceline.cli.live import _provision, post_day

    scenario, _, obs = day
    first = min(o.time_us for o in obs)
    part = sorted((o for o in obs if o.time_us < first + 1800 * S), key=lambda o: o.time_us)
    db = tmp_path / "s.db"
    keys = _provision(part, db, None, None)
    with SqliteStore(db) as store:
        analyst = store.create_token("analyst", "duty officer")
    options = ["--live", "--agreement", str(scenario / "agreement.yaml"),
               "--live-out", str(tmp_path / "live")]  # fmt: skip
    with serving(db, *options) as base:
        assert len(_analysers_of(db)) == 1
        with httpx.Client(base_url=base, timeout=30) as client:
            sent, _ = post_day(part, keys, client, speed=1e9)
            assert sent == len(part)
            deadline = time.monotonic() + 240
            shown: list[dict[str, Any]] = []
            while not shown and time.monotonic() < deadline:
                time.sleep(1.0)
                page = client.get("/v1/incidents", headers={"Authorization": f"Bearer {analyst}"})
                assert page.status_code == 200, page.text
                shown = page.json()["features"]
        assert shown, "no incident appeared while the server ran with --live"
    deadline = time.monotonic() + 30
    while _analysers_of(db) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _analysers_of(db), "the analyser outlived the server"


def test_serve_live_without_an_agreement_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "s.db"), "--live"])
    assert res.exit_code == 2 and "--agreement" in res.output


class _Receiver:
    """A webhook on 127.0.0.1 that keeps every body and signature POSTed to it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        got = self.got = []  # type: list[tuple[bytes, str]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((body, self.headers["X-Truceline-Signature"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_alerts_run_on_the_live_stream_signed_once_each_and_logged(
    day: tuple[Path, Agreement, list[Observation]], tmp_path: Path
) -> None:
    from truceline.publish.alerts import sign
    from truceline.store.live_alerts import LiveAlerts

    scenario, ag, obs = day
    ordered = sorted(obs, key=lambda o: (o.time_us, o.ref))
    hook, secret = _Receiver(), b"guarantors' secret"
    options = {"baseline_hours": 1, "threshold": 1.0}  # a two-hour day: a short calm
    try:
        with SqliteStore(tmp_path / "a.db") as store:
            live = LiveAnalyser(store, ag, agreement_files(scenario / "agreement.yaml"), tmp_path)
            alerts = LiveAlerts(store, ag, hook.url, secret, options)
            sent = []
            for part in (ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]):
                store.add_observations(ObservationBatch(part))
                step = live.step()
                assert step.action == "provisional"
                sent += alerts.after(step)
            sent += alerts.after(live.finalise())
            assert sent and all(res is not None and res["delivered"] for _, res in sent)
            keys = [a.key for a, _ in sent]
            assert len(keys) == len(set(keys))  # each alert once, however many runs raise it
            assert any(a.provisional for a, _ in sent)  # raised while the day arrived
            logged = store.entries_of_kind("alert")
            assert len(logged) == len(sent)
            # a restarted analyser knows from the log what was sent
            again = LiveAlerts(store, ag, hook.url, secret, options)
            assert again.after(live.finalise()) == []
        assert len(hook.got) == len(sent)
        for body, signature in hook.got:
            assert signature == sign(body, secret)
            assert json.loads(body)["alert"]["kind"] == "escalation"
    finally:
        hook.close()
