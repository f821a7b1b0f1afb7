"""Live commands: `truceline live` (the analyser beside the server) and `truceline replay`
(a simulated day posted to a running server at a chosen speed, with the sensors' tokens)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from ._app import DEFAULT_DB, DatabaseUrlOption, DbOption, LogKeyOption, app, guard, open_store, out

__all__ = ["live", "post_day", "replay"]


@app.command()
def live(
    agreement: Annotated[Path, typer.Option(help="The agreement YAML.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for the final runs' incidents.geojson.")
    ],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
    poll: Annotated[
        float, typer.Option(help="Seconds between looks at the log when idle.", min=0.01)
    ] = 0.2,
    settle: Annotated[
        float,
        typer.Option(
            help="Finalise (the batch run) after this many seconds without new observations.",
            min=0.0,
        ),
    ] = 30.0,
    once: Annotated[
        bool, typer.Option(help="Stop after the first final run (for scripts and tests).")
    ] = False,
    webhook: Annotated[
        str | None,
        typer.Option(
            help="URL to POST each new alert to (escalation and rule alerts over every run "
            "published, provisional ones marked), signed and logged."
        ),
    ] = None,
    secret_env: Annotated[
        str, typer.Option(help="Environment variable holding the webhook's HMAC secret.")
    ] = "TRUCELINE_WEBHOOK_SECRET",
) -> None:
    """Follow the store's evidence log: each new observation's stretch of time is analysed
    again and published as a run with provisional incidents (GET /v1/incidents shows it);
    once the window has passed, or the stream settled, the batch analysis is run and
    logged: the same incidents as `truceline analyze --db`. Late data is analysed at once
    and the next final run's revision is logged."""
    from ..agreement import agreement_files, load_agreement
    from ..store.live import LiveAnalyser

    def run() -> None:
        import os

        from ..store.live_alerts import LiveAlerts
        from ..store.notify import watch_of

        ag = load_agreement(agreement)
        files = agreement_files(agreement)
        secret = os.environ.get(secret_env, "").encode()
        if webhook and not secret:
            raise UsageError("--webhook", f"needs the HMAC secret in ${secret_env}")
        with open_store(db, database_url, log_key) as store:
            worker = LiveAnalyser(store, ag, files, out_dir, settle_s=settle)
            alerts = LiveAlerts(store, ag, webhook, secret) if webhook else None
            watch = watch_of(store)  # PostgreSQL wakes it on each commit
            told = watch.changes
            out.print(f"live: window {worker.window.as_dict()}")
            while True:
                step = worker.step()
                if step.action == "idle":
                    told = watch.wait(told, poll)
                    continue
                sent = alerts.after(step) if alerts is not None else []
                out.print(
                    f"{step.action} run {step.run_id}: {step.observations} new observations"
                    + (f", revision {step.revision}" if step.revision else "")
                    + (f", {len(sent)} alerts sent" if sent else "")
                )
                if once and step.action == "final":
                    return

    try:
        guard(run)
    except KeyboardInterrupt:
        out.print("live: stopped")


@app.command()
def replay(
    directory: Annotated[
        Path, typer.Argument(help="A simulated day (truceline simulate --out).", metavar="DIR")
    ],
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:8080",
    speed: Annotated[float, typer.Option(help="Times real time (1, 10, 100).", min=0.001)] = 10.0,
    tokens: Annotated[
        Path | None,
        typer.Option(help="JSON {source: token}; default DIR/tokens.json (see --provision)."),
    ] = None,
    provision: Annotated[
        Path | None,
        typer.Option(
            help="The server's SQLite store: register the day's sensors there and issue a "
            "token per source (written to the tokens file) before replaying."
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Post a simulated day's observations to a running server in time order at SPEED times
    real time, each with its source's own token (a sensor's, a party's, a monitor's)."""
    from ..sources import read_observations

    token_file = tokens if tokens is not None else directory / "tokens.json"

    def run() -> tuple[int, float]:
        batch = read_observations([directory / "observations.jsonl"])
        if provision is not None or database_url:
            keys = _provision(batch.observations, provision or DEFAULT_DB, database_url, log_key)
            token_file.write_text(json.dumps(keys, indent=1, sort_keys=True), encoding="utf-8")
        if not token_file.exists():
            raise UsageError("--tokens", f"{token_file} does not exist (give --provision DB)")
        keys = json.loads(token_file.read_text(encoding="utf-8"))
        import httpx

        with httpx.Client(base_url=url, timeout=60.0) as client:
            return post_day(batch.observations, keys, client, speed)

    sent, late = guard(run)
    out.print(f"replayed {sent} observations to {url} at {speed:g}x; most behind {late:.2f} s")


def _provision(
    observations: list[Any], db: Path, database_url: str | None, log_key: Path | None
) -> dict[str, str]:
    """Register each sensor at the position its detections report and issue a token per
    source, with the role :func:`truceline.live.replay_role` gives it."""
    from ..live import replay_role
    from ..sensors import Sensor

    expires = int((time.time() + 7 * 86_400) * 1e6)
    roles: dict[str, str] = {}
    positions: dict[str, tuple[float, ...]] = {}
    for o in observations:
        roles.setdefault(o.model.source, replay_role(o))
        if o.type == "acoustic":
            positions.setdefault(o.model.sensor, tuple(o.model.position))
    keys: dict[str, str] = {}
    with open_store(db, database_url, log_key) as store:
        known = store.sensors()
        for sensor, pos in sorted(positions.items()):
            if sensor not in known:
                store.register_sensor(Sensor(sensor, pos, "replay"))
        for source, role in sorted(roles.items()):
            keys[source] = store.create_token(role, source, None, expires)
    return keys


def post_day(
    observations: list[Any],
    keys: dict[str, str],
    client: Any,
    speed: float,
    sent_at: Callable[[float, list[Any]], None] | None = None,
) -> tuple[int, float]:
    """Send each tick's observations with ``client`` (an ``httpx.Client`` on the server),
    one request per source, when the tick is due; ``sent_at(t, observations)`` is told when
    (monotonic) each request was answered. How many were sent, and how far (s) the replay
    fell behind its schedule at worst."""
    from ..live import replay_schedule

    sent, behind = 0, 0.0
    start = time.monotonic()
    for at, part in replay_schedule(observations, speed):
        wait = start + at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        behind = max(behind, -wait)
        by_source: dict[str, list[str]] = {}
        groups: dict[str, list[Any]] = {}
        for o in part:
            by_source.setdefault(o.model.source, []).append(o.body)
            groups.setdefault(o.model.source, []).append(o)
        for source, bodies in by_source.items():
            token = keys.get(source)
            if token is None:
                raise UsageError("--tokens", f"no token for source {source}")
            res = client.post(
                "/v1/observations",
                content="\n".join(bodies) + "\n",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                },
            )
            if res.status_code != 200:
                raise UsageError(
                    "--url", f"the server answered {res.status_code}: {res.text[:300]}"
                )
            sent += len(bodies)
            if sent_at is not None:
                sent_at(time.monotonic(), groups[source])
    return sent, behind
