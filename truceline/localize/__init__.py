"""Localisation: acoustic picks (:mod:`.picks`) associated into events (:mod:`.association`,
:mod:`.hypotheses`), located by TDOA (:mod:`.tdoa`, :mod:`.closed_form`) with their
Cramér-Rao bounds (:mod:`.bounds`), bearings (:mod:`.bearings`), and launches paired with
impacts (:mod:`.pairing`)."""

__all__: list[str] = []
