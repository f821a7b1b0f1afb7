"""Publishing: the daily report (:mod:`.report`, rendered by :mod:`.render` with the
figures of :mod:`.figures`), the open exports (:mod:`.exports`), the alerts (:mod:`.alerts`)
and the charts of the real-data studies (:mod:`.charts`)."""

__all__: list[str] = []
