"""Commands of the service: `truceline serve` and `truceline token create`."""

from __future__ import annotations

from typing import Annotated

import typer

from .cli import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    LogKeyOption,
    _guard,
    _store,
    app,
    err,
    out,
)

token_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[
        str, typer.Option(help="sensor, monitor, analyst, commissioner or party:<ID>.")
    ],
    name: Annotated[str, typer.Option(help="Who holds it (a sensor: the source it writes).")],
    member_state: Annotated[
        str | None, typer.Option(help="A commissioner's member state (e.g. FR).")
    ] = None,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Issue a bearer token (only its hash is stored); the token is the last word printed."""
    from .access import valid_role

    if not valid_role(role) or role == "public":
        err.print("error: --role must be sensor, monitor, analyst, commissioner or party:<ID>")
        raise typer.Exit(2)
    if role == "commissioner" and not member_state:
        err.print("error: a commissioner's token needs --member-state")
        raise typer.Exit(2)

    def run() -> str:
        with _store(db, database_url, log_key) as store:
            return store.create_token(role, name, member_state)

    token = _guard(run)
    print(f"token for {name} ({role}): {token}")


@app.command()
def serve(
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8080,
    log_key: LogKeyOption = None,
    quorum: Annotated[
        int, typer.Option(help="Member states whose commissioners must sign a ruling.", min=1)
    ] = 2,
    delay_hours: Annotated[
        float, typer.Option(help="Hours before the public sees an incident.", min=0)
    ] = 24.0,
    coarsen_deg: Annotated[
        float, typer.Option(help="Public locations rounded to this many degrees.", min=0.0001)
    ] = 0.05,
    rate_per_s: Annotated[
        float, typer.Option(help="Requests per second allowed per client (then 429).", min=0.01)
    ] = 50.0,
    burst: Annotated[int, typer.Option(help="Requests a client may burst.", min=1)] = 200,
    max_body_mb: Annotated[
        float, typer.Option(help="Largest request body (then 413).", min=0.001)
    ] = 8.0,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes (each with its own connection and rate limits).", min=1
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, documentation at /docs)."""
    import uvicorn

    from .access import Disclosure
    from .api import Settings, create_app

    settings = Settings(
        db=db,
        database_url=database_url,
        log_key=log_key,
        quorum=quorum,
        disclosure=Disclosure(delay_hours=delay_hours, coarsen_deg=coarsen_deg),
        rate_per_s=rate_per_s,
        burst=burst,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
    )
    application = _guard(lambda: create_app(settings))  # opens and migrates the store once
    where = "PostgreSQL" if database_url else str(db)
    out.print(f"serving {where} on http://{host}:{port} (OpenAPI: /openapi.json)")
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning")
        return
    import os

    from .api import SETTINGS_ENV, settings_to_env

    os.environ[SETTINGS_ENV] = settings_to_env(settings)
    uvicorn.run(
        "truceline.api:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
    )
