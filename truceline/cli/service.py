"""Commands of the service: `truceline serve` and `truceline token create`."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
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
    **service: Any,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, documentation at /docs)."""
    from .._extras import require
    from ..api import SETTINGS_ENV, Settings, create_app

    uvicorn = guard(lambda: require("uvicorn", "service", "The HTTP API"))
    settings = Settings(db=db, database_url=database_url, log_key=log_key, **service)
    application = guard(lambda: create_app(settings))  # opens and migrates the store once
    where = "PostgreSQL" if database_url else str(db)
    out.print(f"serving {where} on http://{host}:{port} (OpenAPI: /openapi.json)")
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
