"""The sensor registry over HTTP: ``POST /v1/sensors`` (an analyst registers or re-surveys a
sensor; logged) and ``GET /v1/sensors`` (staff). Who may do it is
:func:`truceline.access.may_register_sensor`; the rule a detection must meet is
:mod:`truceline.sensors`.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from ..access import may_register_sensor
from ..observation_models import Ident, LonLatElev
from ..sensors import DEFAULT_TOLERANCE_M, Sensor
from .deps import Ctx, Who, locked

__all__ = ["SensorIn", "router"]

router = APIRouter()


class SensorIn(BaseModel):
    id: Ident
    position: LonLatElev
    operator: Annotated[str, Field(min_length=1, max_length=256)]
    tolerance_m: float = Field(DEFAULT_TOLERANCE_M, gt=0, le=10_000, allow_inf_nan=False)


@router.post("/v1/sensors", status_code=201)
async def post_sensor(body: SensorIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Register a sensor at its surveyed position (analysts); its token and its detections
    are bound to it."""
    reason = may_register_sensor(who)
    if reason:
        raise HTTPException(403, reason)
    sensor = Sensor(body.id, tuple(body.position), body.operator, body.tolerance_m)
    async with locked(ctx):
        index = ctx.store.register_sensor(sensor)
    return {**sensor.as_dict(), "log_index": index}


@router.get("/v1/sensors")
async def get_sensors(ctx: Ctx, who: Who) -> list[dict[str, Any]]:
    """The registered sensors (staff: the network's layout is not public)."""
    if not who.is_staff:
        raise HTTPException(403, f"{who.role} may not do this")
    async with locked(ctx):
        return [s.as_dict() for s in ctx.store.sensors().values()]
