"""Commands of the service: `truceline serve` and `truceline token create`."""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ._app import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    LogKeyOption,
    app,
    err,
    guard,
    open_store,
    out,
)

__all__ = ["serve", "token_create", "token_revoke"]

token_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[
        str, typer.Option(help="sensor, monitor, analyst, commissioner or party:<ID>.")
    ],
    name: Annotated[str, typer.Option(help="Who holds it (a sensor: the source it writes).")],
    member_state: Annotated[
        str | None, typer.Option(help="A commissioner's member state (ISO 3166-1, e.g. FR).")
    ] = None,
    expires_days: Annotated[
        float, typer.Option(help="Days until the token expires.", min=0.001, max=3650)
    ] = 90.0,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Issue a bearer token (only its hash is stored) valid for EXPIRES_DAYS; the token is
    the last word printed. A sensor's token names a registered sensor (truceline sensor add)."""
    import time

    from ..access import valid_role

    if not valid_role(role) or role == "public":
        err.print("error: --role must be sensor, monitor, analyst, commissioner or party:<ID>")
        raise typer.Exit(2)
    if role == "commissioner" and not member_state:
        err.print("error: a commissioner's token needs --member-state")
        raise typer.Exit(2)

    expires = int((time.time() + expires_days * 86_400) * 1e6)

    def run() -> str:
        with open_store(db, database_url, log_key) as store:
            return str(store.create_token(role, name, member_state, expires))

    token = guard(run)
    print(f"token for {name} ({role}): {token}")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str | None, typer.Option(help="Revoke every token of this holder.")] = None,
    token: Annotated[str | None, typer.Option(help="Revoke this one token.")] = None,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Revoke tokens at once (logged): the service refuses them from the next request on."""

    def run() -> int:
        with open_store(db, database_url, log_key) as store:
            return int(store.revoke_tokens(name, token))

    n = guard(run)
    out.print(f"revoked {n} token{'s' if n != 1 else ''}")


def serve(
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes (each with its own connection and rate limits).", min=1
        ),
    ] = 1,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Also run the live analyser (truceline live) beside the API for as long as "
            "it serves: observations posted become provisional incidents (needs --agreement).",
        ),
    ] = False,
    agreement: Annotated[
        Path | None, typer.Option(help="With --live: the agreement YAML.", dir_okay=False)
    ] = None,
    live_out: Annotated[
        Path, typer.Option("--live-out", help="With --live: directory for the final runs.")
    ] = Path("live"),
    live_webhook: Annotated[
        str | None,
        typer.Option(
            "--live-webhook",
            help="With --live: URL to POST each new alert to, signed with the HMAC secret in "
            "$TRUCELINE_WEBHOOK_SECRET (truceline live --webhook).",
        ),
    ] = None,
    tiles: Annotated[
        Path | None,
        typer.Option(
            "--tiles",
            help="The mission's own base map: an MBTiles file of raster tiles (PNG, JPEG or "
            "WebP), served at /tiles/{z}/{x}/{y} and drawn by the dashboard under the "
            "incidents (without it, the built-in country outlines alone).",
            dir_okay=False,
        ),
    ] = None,
    **service: Any,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, documentation at /docs); with --live,
    the live analyser runs beside it as a process of its own and stops with it."""
    from .._extras import require
    from ..api import Settings, create_app

    if live and (agreement is None or not agreement.is_file()):
        guard(lambda: _no_agreement(agreement))
    if tiles is not None:  # a wrong file is said before the store is opened
        guard(lambda: _check_tiles(tiles))
    uvicorn = guard(lambda: require("uvicorn", "service", "The HTTP API"))
    settings = Settings(db=db, database_url=database_url, log_key=log_key, tiles=tiles, **service)
    application = guard(lambda: create_app(settings))  # opens and migrates the store once
    where = "PostgreSQL" if database_url else str(db)
    out.print(f"serving {where} on http://{host}:{port} (OpenAPI: /openapi.json)")
    beside = (agreement, live_out, live_webhook)
    with _analyser_beside(live, beside, db, database_url, log_key):
        _serve(uvicorn, application, settings, host, port, workers)


def _check_tiles(tiles: Path) -> None:
    from ..mbtiles import MBTiles

    MBTiles(tiles).close()


def _no_agreement(agreement: Path | None) -> None:
    from ..errors import UsageError

    if agreement is None:
        raise UsageError("--agreement", "the live analyser (--live) judges by an agreement")
    raise UsageError("--agreement", f"{agreement}: no such file")


@contextmanager
def _analyser_beside(
    live: bool,
    beside: tuple[Path | None, Path, str | None],
    db: Path,
    database_url: str | None,
    log_key: Path | None,
) -> Iterator[None]:
    """With ``live``, `truceline live` in a process of its own (its own store connection,
    no share of the API's interpreter) while the block runs; stopped when it ends.
    ``beside``: its agreement, output directory and alerts' webhook."""
    agreement, live_out, webhook = beside
    if not live or agreement is None:
        yield
        return
    cmd = [sys.executable, "-m", "truceline", "live", "--agreement", str(agreement),
           "--out", str(live_out), "--db", str(db)]  # fmt: skip
    cmd += ["--database-url", database_url] if database_url else []
    cmd += ["--log-key", str(log_key)] if log_key else []
    cmd += ["--webhook", webhook] if webhook else []
    proc = subprocess.Popen(cmd, preexec_fn=_die_with_parent)  # (no threads here yet)
    out.print(f"live analyser: process {proc.pid}, final runs into {live_out}")
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _die_with_parent() -> None:
    """In the analyser's process, before it starts: the kernel ends it when the server's
    process ends, however that ends (uvicorn re-raises the signal that stopped it, so the
    server's own clean-up does not always run)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the server's clean-up alone
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _serve(
    uvicorn: Any, application: Any, settings: Any, host: str, port: int, workers: int
) -> None:
    from ..api import SETTINGS_ENV

    # X-Forwarded-For is believed only from the configured proxies (uvicorn would otherwise
    # believe it from 127.0.0.1, and any local client could reset its own rate limit)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    forwarding = {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning", **forwarding)
        return
    os.environ[SETTINGS_ENV] = settings.to_env()
    uvicorn.run(
        "truceline.api:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        **forwarding,
    )


def _with_settings(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with an option per service setting (:func:`truceline.api.settings.options`,
    where each is declared once with its default, help and bound) in place of ``**service``."""
    from ..api.settings import options

    sig = inspect.signature(command)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = [
        inspect.Parameter(
            o.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=o.default,
            annotation=Annotated[o.type, typer.Option(help=o.help, min=o.min)],
        )
        for o in options()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        command(**kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
    return wrapper


app.command("serve")(_with_settings(serve))
