# Fresh machine: `make demo` runs a simulated day end to end; `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo-out
SEED   ?= 1
PORT   ?= 8080

.PHONY: install demo test lint typecheck pytest clean lock real-data minsk-backtest real-line vendor

$(BIN)/truceline: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/truceline

demo: install
	@# the dashboard's port first: a demo still serving (or anything else) on it would only
	@# be found after the whole pipeline had run again
	@$(BIN)/python -c "import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $(PORT))); s.close()" 2>/dev/null \
		|| { echo "make demo: port $(PORT) is taken (a demo still serving?). Stop it, or run: make demo PORT=8081"; exit 1; }
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/truceline simulate --out $(DEMO)/scenario --seed $(SEED) --hours 24
	$(BIN)/truceline ingest --db $(DEMO)/truceline.db $(DEMO)/scenario/observations.jsonl
	$(BIN)/truceline analyze --db $(DEMO)/truceline.db --agreement $(DEMO)/scenario/agreement.yaml --out $(DEMO)/analysis
	$(BIN)/truceline evaluate --truth $(DEMO)/scenario/truth.jsonl --incidents $(DEMO)/analysis/incidents.geojson
	$(BIN)/truceline reproduce 1 --db $(DEMO)/truceline.db --out $(DEMO)/reproduced
	$(BIN)/truceline log export --db $(DEMO)/truceline.db --out $(DEMO)/evidence
	$(BIN)/truceline log verify $(DEMO)/evidence --log-key "$$($(BIN)/truceline log key --db $(DEMO)/truceline.db | head -1)"
	$(BIN)/truceline report --db $(DEMO)/truceline.db --date 2026-03-01 --out $(DEMO)/report --lang en,uk,ru
	@# the dashboard over the simulated day: a token per role, then serve in the foreground
	@for spec in "analyst demo-analyst" "commissioner demo-com-fr FR" "commissioner demo-com-de DE" \
		"party:N demo-party-N" "party:S demo-party-S"; do set -- $$spec; \
		$(BIN)/truceline token create --db $(DEMO)/truceline.db --role $$1 --name $$2 \
			$${3:+--member-state $$3}; done | tee $(DEMO)/tokens.txt
	@echo "dashboard: http://127.0.0.1:$(PORT)/  (paste a token above, kept in $(DEMO)/tokens.txt, into"
	@echo "the page's token field; none is the public view; Ctrl-C stops the server)"
	$(BIN)/truceline serve --db $(DEMO)/truceline.db --port $(PORT)

# The dashboard's browser libraries, vendored into the package at build time (needs npm and
# the registry; the copies are committed, so installing, testing and serving need no npm).
STATIC := truceline/web/static/vendor
vendor:
	cd web && npm ci --no-audit --no-fund
	rm -rf $(STATIC) && mkdir -p $(STATIC)/leaflet/images $(STATIC)/topojson-client $(STATIC)/world-atlas \
		$(STATIC)/mgrs
	cp web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css \
		web/node_modules/leaflet/LICENSE $(STATIC)/leaflet/
	cp web/node_modules/leaflet/dist/images/*.png $(STATIC)/leaflet/images/
	cp web/node_modules/topojson-client/dist/topojson-client.min.js \
		web/node_modules/topojson-client/LICENSE $(STATIC)/topojson-client/
	cp web/node_modules/world-atlas/countries-50m.json web/node_modules/world-atlas/LICENSE \
		$(STATIC)/world-atlas/
	cp web/node_modules/mgrs/dist/mgrs.esm.js web/node_modules/mgrs/dist/mgrs.esm.js.map $(STATIC)/mgrs/
	cp web/node_modules/mgrs/license.md $(STATIC)/mgrs/LICENSE
	cd web && npm ls --json --depth=0 > ../$(STATIC)/VERSIONS.json

# Real data beside the repository (never copied into it): fires of spring 2022 against the front.
DATA ?= ../shared/data
real-data: install
	$(BIN)/truceline frontline --points $(DATA)/firms_ukraine_2022/firms_ukraine_20220224_20220515.csv \
		--snapshots $(DATA)/deepstate_raw_2022 \
		--border $(DATA)/ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson --out real-data-out

# The Minsk "Package of Measures" (12 February 2015) judged on UCDP GED 2015-2019: the
# agreement's control areas and line are derived from the real data at run time
# (examples/minsk-2015/build.py), never copied (docs/backtest-minsk.md).
MINSK := minsk-out
minsk-backtest: install
	$(BIN)/python examples/minsk-2015/build.py --data $(DATA)
	rm -rf $(MINSK) && mkdir -p $(MINSK)
	$(BIN)/truceline ingest --db $(MINSK)/minsk.db --agreement examples/minsk-2015/agreement.yaml \
		$(DATA)/ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2019.csv
	$(BIN)/truceline analyze --db $(MINSK)/minsk.db --agreement examples/minsk-2015/agreement.yaml \
		--out $(MINSK)/analysis
	$(BIN)/python examples/minsk-2015/tables.py --incidents $(MINSK)/analysis/incidents.geojson \
		--agreement examples/minsk-2015/agreement.yaml \
		--ged $(DATA)/ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2019.csv > $(MINSK)/tables.md
	$(BIN)/truceline report --db $(MINSK)/minsk.db --date 2015-02-15 --through 2019-12-31 \
		--format md --regions $(DATA)/ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson \
		--region-name ADMIN_1 --out $(MINSK)/reports

# A simulated day along the real line of contact of 17 August 2025 (README, "On a real line").
REAL := real-line-out
real-line: install
	rm -rf $(REAL) && mkdir -p $(REAL)
	$(BIN)/truceline simulate --out $(REAL)/day --seed 1 --hours 24 \
		--front $(DATA)/deepstate_occupied/deepstatemap_data_20250817.geojson \
		--border $(DATA)/ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson
	$(BIN)/truceline analyze --agreement $(REAL)/day/agreement.yaml --out $(REAL)/run \
		$(REAL)/day/observations.jsonl
	$(BIN)/truceline evaluate --truth $(REAL)/day/truth.jsonl --incidents $(REAL)/run/incidents.geojson

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

# Re-pin every dependency after changing pyproject.toml (needs the package registry).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet --upgrade pip
	.lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) $(DEMO) .mypy_cache .pytest_cache .ruff_cache
