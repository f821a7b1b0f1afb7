// The dashboard's entry point: who is calling (GET /v1/me), the agreement, the base map,
// every incident the caller may see, then the map, the timeline, the list, the dossier and
// the commission queue. Timings (first render, each filter) are exposed on
// window.truceline.timings and as performance marks, for the benchmark and the tests.

import { allIncidents, api, bulkIncidents, downloadPosted, setToken, token } from "./api.js";
import { CaseQueue } from "./cases.js";
import { Charts } from "./charts.js";
import { Density } from "./density.js";
import { renderDossier } from "./dossier.js";
import { pinMissionKey, setAgreementKey } from "./proof.js";
import { clear, el } from "./dom.js";
import { anchorFor, IncidentMap, partyColours, radiusFor, UNDETERMINED } from "./map.js";
import { Filters, incidentLabel } from "./timeline.js";
import { keepView, readView, viewHash } from "./urlstate.js";

const LIST_MAX = 200;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const state = {
  me: { role: "public", name: "public", staff: false, party: null },
  agreement: null,
  head: null,
  features: [],
  colours: {},
  byId: new Map(),
  open: null, // the id whose dossier is open
};
const timings = { filter: [] };
window.truceline = { state, timings, ready: false, filterSeq: 0 };

function announce(text, error = false) {
  const node = $("announce");
  node.textContent = text;
  node.classList.toggle("error", error);
}

// -- views -------------------------------------------------------------------------------
let queue = null;
function showView(name) {
  const cases = name === "cases";
  $("view-map").hidden = cases;
  $("view-cases").hidden = !cases;
  $("tab-map").setAttribute("aria-pressed", String(!cases));
  $("tab-cases").setAttribute("aria-pressed", String(cases));
  if (cases) {
    queue = queue || new CaseQueue($("cases"), { ...ctx(), openIncident: (id) => openDossier(id) });
    queue.load();
  } else {
    map.map.invalidateSize();
  }
}

function ctx() {
  return { me: state.me, agreement: state.agreement, head: state.head, colours: state.colours, announce };
}

// -- dossier -----------------------------------------------------------------------------
let opener = null;
function openDossier(id) {
  if ($("view-map").hidden) showView("map");
  opener = document.activeElement;
  state.open = id;
  remember();
  const panel = $("dossier");
  panel.hidden = false;
  const i = state.byId.get(id);
  if (i !== undefined) {
    map.highlight(i);
    map.focus(i); // the map, shrunk beside the dossier, shows the selection
  }
  renderDossier($("dossier-body"), id, ctx()).then(() => {
    const title = $("dossier-title");
    if (title) title.focus();
  });
}

function closeDossier() {
  const panel = $("dossier");
  if (panel.hidden) return;
  panel.hidden = true;
  state.open = null;
  remember();
  map.highlight(-1);
  if (opener && document.contains(opener)) opener.focus();
}

// -- list and count ----------------------------------------------------------------------
function renderList(mask) {
  const list = clear($("incident-list"));
  let shown = 0;
  let total = 0;
  for (let i = 0; i < state.features.length; i++) {
    if (!mask[i]) continue;
    total++;
    if (shown >= LIST_MAX) continue;
    shown++;
    const p = state.features[i].properties;
    const dot = el("span", {
      class: "dot",
      "aria-hidden": "true",
      style: `background:${state.colours[p.attributed_to] || UNDETERMINED}`,
    });
    list.append(
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "incident",
            dataset: { id: p.id },
            onclick: () => openDossier(p.id),
            onfocus: () => map.highlight(i),
          },
          dot,
          incidentLabel(p),
        ),
      ),
    );
  }
  $("list-more").textContent =
    total > shown ? `Listing the first ${shown} of ${total}; narrow the filters or the time range.` : "";
  return total;
}

function onFilter(mask, started, initial) {
  const total = renderList(mask);
  $("count").textContent = state.features.length
    ? `${total.toLocaleString("en")} of ${state.features.length.toLocaleString("en")} incidents shown`
    : emptyText();
  $("count").dataset.shown = String(total);
  $("count").classList.toggle("empty", !state.features.length);
  // a withdrawal clause is about where the gun stood: draw its incidents at their origins
  map.setAnchor(anchorFor([...filters.choice.clause.chosen], state.agreement));
  charts.update(mask);
  density.update();
  remember();
  map.show(mask).then(() => {
    const ms = performance.now() - started;
    if (initial) {
      timings.firstRender = performance.now();
      timings.draw = ms;
      performance.mark("truceline-first-render");
      window.truceline.ready = true;
      document.body.dataset.ready = "1";
    } else {
      timings.filter.push(ms);
      performance.mark("truceline-filter");
    }
    window.truceline.filterSeq++;
    document.body.dataset.filterSeq = String(window.truceline.filterSeq);
  });
}

/** Why there is nothing to show, rather than "0 of 0". */
function emptyText() {
  if (state.me.role === "public") {
    return "Nothing has been published yet: incidents appear here once the commission publishes them (verified, after the publication delay).";
  }
  return `No incident is visible to ${state.me.role} yet: none has been found by an analysis run${state.me.party ? ", attributed to your party, or alleged by it" : ""}.`;
}

function legend() {
  const items = (state.agreement?.parties || []).map((p) =>
    el("li", {}, el("span", { class: "dot", style: `background:${state.colours[p.id]}` }), `${p.id} — ${p.name}`),
  );
  items.push(el("li", {}, el("span", { class: "dot", style: `background:${UNDETERMINED}` }), "undetermined"));
  items.push(el("li", {}, el("span", { class: "swatch line" }), "line of contact"));
  items.push(el("li", {}, el("span", { class: "swatch zone" }), "disengagement area"));
  const widths = [...new Set((state.agreement?.clauses || []).filter((c) => c.kind === "presence" && c.within_km).map((c) => c.within_km))];
  if (widths.length) {
    items.push(el("li", {}, el("span", { class: "swatch band" }), `withdrawal bands: ${widths.sort((a, b) => a - b).join(", ")} km from the line, each party's side`));
  }
  items.push(
    el(
      "li",
      {},
      el("span", { class: "dot", style: `width:${2 * radiusFor(0.3)}px;height:${2 * radiusFor(0.3)}px;background:#9ca3af` }),
      el("span", { class: "dot", style: `width:${2 * radiusFor(1)}px;height:${2 * radiusFor(1)}px;background:#9ca3af` }),
      "size: confidence; drawn at the impact (else the origin), at the origin with a line to the impact for a withdrawal clause; zoomed in: 95 % ellipses and the line from origin to impact",
    ),
  );
  clear($("legend")).append(el("ul", {}, items));
}

// -- start -------------------------------------------------------------------------------
const map = new IncidentMap($("map"), {
  renderer: ["svg", "markers"].includes(params.get("renderer")) ? params.get("renderer") : "points",
  onOpen: (i) => openDossier(state.features[i].properties.id),
});
const filters = new Filters(
  {
    clause: $("f-clause"),
    party: $("f-party"),
    weapon: $("f-weapon"),
    status: $("f-status"),
    sector: $("f-sector"),
    confidence: $("f-confidence"),
    from: $("f-from"),
    to: $("f-to"),
    fromDate: $("f-from-date"),
    toDate: $("f-to-date"),
    search: $("f-search"),
  },
  $("histogram"),
  onFilter,
);
const density = new Density(map, () => ({
  lon: map.lon || [],
  lat: map.lat || [],
  mask: filters.mask || new Uint8Array(0),
}));
const charts = new Charts($("charts"), { onSector: (k) => filters.choice.sector.toggle(k) });

// -- the view in the address, and the export of what is shown ------------------------------
let restored = false; // the address is only written once the view it named is applied
function remember() {
  if (!restored || filters.n === undefined) return;
  const c = map.map.getCenter();
  keepView(viewHash({ ...filters.state(), density: density.on }, state.open, [c.lat, c.lng, map.map.getZoom()]));
}

async function copyLink() {
  remember();
  try {
    await navigator.clipboard.writeText(location.href);
    announce("The address of this view is copied: whoever opens it sees the same filters (with their own token's view).");
  } catch {
    announce(`The address of this view: ${location.href}`);
  }
}

async function exportShown(format) {
  const ids = state.features.filter((_, i) => filters.mask[i]).map((f) => f.properties.id);
  if (!ids.length) {
    announce("Nothing is shown, so there is nothing to export: widen the filters.", true);
    return;
  }
  try {
    const n = await downloadPosted("/v1/incidents/export", { format, ids }, `truceline-incidents.${format}`);
    announce(`Exported ${n.toLocaleString("en")} incidents as ${format === "csv" ? "CSV" : "GeoJSON"}, with the fields your view shows.`);
  } catch (err) {
    announce(`The export failed (${err.status}): ${err.message}`, true);
  }
}

window.truceline.map = map;
window.truceline.density = density;
window.truceline.filters = filters;

async function optional(promise) {
  try {
    return await promise;
  } catch {
    return null;
  }
}

async function start() {
  $("tab-map").addEventListener("click", () => showView("map"));
  $("tab-cases").addEventListener("click", () => showView("cases"));
  $("f-reset").addEventListener("click", () => filters.reset());
  $("f-link").addEventListener("click", copyLink);
  $("export-geojson").addEventListener("click", () => exportShown("geojson"));
  $("export-csv").addEventListener("click", () => exportShown("csv"));
  map.map.on("moveend", remember);
  document.getElementById("density").addEventListener("change", remember);
  $("dossier-close").addEventListener("click", closeDossier);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeDossier();
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setToken($("token").value.trim());
    location.reload();
  });
  $("public-btn").addEventListener("click", () => {
    setToken("");
    location.reload();
  });
  if (token()) $("token").placeholder = "a token is in use";
  // ?key=ID (or the key itself): the log key the mission publishes, pinned in this browser
  if (params.get("key") && !(await pinMissionKey(params.get("key")))) {
    announce("The key given in the address is neither a key id (16 hex digits) nor a key.", true);
  }

  try {
    state.me = await api("/v1/me");
  } catch (err) {
    announce(`The token was refused (${err.status}); showing the public view. Enter another token.`, true);
    setToken("");
  }
  const who = state.me;
  $("whoami").textContent =
    who.role === "public"
      ? "Public view: published, verified incidents only, delayed and with rounded locations."
      : `Signed in as ${who.name} (${who.role}${who.member_state ? `, ${who.member_state}` : ""}).`;
  document.body.dataset.role = who.role;

  const [agreement, topo, head, layers] = await Promise.all([
    optional(api("/v1/agreement")),
    // the base map under its content-hashed name: the browser keeps it (immutable)
    optional(fetch(document.querySelector("meta[name=truceline-basemap]")?.content || "/static/vendor/world-atlas/countries-50m.json").then((r) => r.json())),
    optional(api("/v1/evidence/sth")),
    optional(api("/v1/map")), // the mission's tiles (serve --tiles) and place names
  ]);
  state.agreement = agreement;
  await setAgreementKey(agreement);
  state.head = head;
  state.colours = partyColours(agreement?.parties || []);
  if (topo) map.drawBase(topo);
  map.setTiles(layers?.tiles);
  map.showPlaces(layers?.places);
  if (agreement) {
    map.drawAgreement(agreement, state.colours);
    $("agreement-title").textContent = agreement.title;
  }
  legend();
  timings.setup = performance.now();
  // one answer by default; ?paging=1 pages through GET /v1/incidents instead (the
  // benchmark's baseline for loading)
  state.features =
    params.get("paging") === "1"
      ? await allIncidents((_, n) => {
          $("count").textContent = `Loading incidents… ${n.toLocaleString("en")}`;
        })
      : await bulkIncidents();
  timings.fetched = performance.now();
  state.features.forEach((f, i) => state.byId.set(f.properties.id, i));
  map.setIncidents(state.features, state.colours);
  const view = readView();
  if (view.at) map.map.setView([view.at[0], view.at[1]], view.at[2], { animate: false });
  filters.setData(state.features, agreement);
  charts.setData(filters, agreement?.sectors);
  charts.update(filters.mask);
  if (Object.keys(view).some((k) => !["at", "incident", "density"].includes(k))) filters.apply(view);
  if (view.density) density.set(true);
  restored = true;
  if (view.incident && state.byId.has(view.incident)) openDossier(view.incident);
  else if (view.incident) announce("The incident the address names is not one you may see (or not in the latest run).", true);
  remember();
}

start().catch((err) => announce(`The dashboard could not load: ${err.message}`, true));
