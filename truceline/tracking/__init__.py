"""Tracking air objects (drones, aircraft) over radar plots and bearings: a pure function
from a table of detections to tracks with covariance, start and end
(:mod:`.multitarget`, built on Stone Soup)."""

from __future__ import annotations

from .multitarget import BEARING, POSITION, Detections, Track, TrackerParams, track

__all__ = ["BEARING", "POSITION", "Detections", "Track", "TrackerParams", "track"]
