// The map's own furniture, all offline: the gazetteer's place names (GET /v1/places, the
// report's gazetteer), a graticule of latitude and longitude, and the readout of the
// coordinates and MGRS grid reference under the cursor (computed here, by the vendored
// `mgrs` package, as the Python side's `truceline.places.mgrs` computes it: truncated).

/* global L */

import { forward as toMgrs } from "../vendor/mgrs/mgrs.esm.js";

const LABEL_PX = 7; // a label's width per character, roughly, for decluttering
const EDGE = 14; // px: the nearest place, when outside the view, is named at the map's edge
const STEPS = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002];

function labelIcon(text, cls = "") {
  const span = document.createElement("span");
  span.textContent = text;
  return L.divIcon({ className: `place-label ${cls}`.trim(), html: span, iconSize: null });
}

/** MGRS digits per coordinate that the map's scale supports at a point: 5 (1 m) zoomed in,
 * fewer where a screen pixel is many metres. */
export function mgrsDigits(metresPerPixel) {
  return Math.max(1, Math.min(5, 5 - Math.ceil(Math.log10(Math.max(metresPerPixel, 1)))));
}

/** An MGRS reference with its parts spaced ("37U CP 64809 51250"); "" beyond its reach. */
export function mgrsOf(lon, lat, digits = 5) {
  try {
    return toMgrs([lon, lat], digits);
  } catch {
    return "";
  }
}

export function spaced(ref) {
  const m = /^(\d{1,2}[C-X])([A-Z]{2})(\d*)$/.exec(ref);
  if (!m) return ref;
  const half = m[3].length / 2;
  return [m[1], m[2], m[3].slice(0, half), m[3].slice(half)].filter(Boolean).join(" ");
}

/** Settlements in view, most populous first, those whose label would overlap a larger
 * one's left out; and the place nearest the map's centre named at the edge when none of
 * the view's is near (zoomed in, the view may hold no settlement at all). */
export class PlaceLabels {
  constructor(map, onNearest = () => {}) {
    this.map = map;
    this.onNearest = onNearest;
    map.createPane("places").style.zIndex = 350; // under the incidents (400)
    map.getPane("places").style.pointerEvents = "none";
    this.layer = L.layerGroup().addTo(map);
    this.shown = [];
    this.seq = 0;
    this.draws = 0; // how many answers were drawn (the tests wait on it)
  }

  enable() {
    this.map.on("moveend", this.refresh, this);
    return this.refresh();
  }

  async refresh() {
    const b = this.map.getBounds().pad(0.1);
    const c = this.map.getCenter();
    const f = (v) => v.toFixed(4);
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(f).join(",");
    const seq = ++this.seq;
    let answer;
    try {
      const res = await fetch(`/v1/places?bbox=${bbox}&near=${f(c.lng)},${f(c.lat)}`);
      if (!res.ok) return;
      answer = await res.json();
    } catch {
      return;
    }
    if (seq !== this.seq) return; // a later view's answer is on its way
    this.draw(answer.places || [], answer.nearest);
    this.onNearest(answer.nearest);
    this.draws++;
  }

  draw(places, nearest) {
    this.layer.clearLayers();
    this.shown = [];
    const boxes = [];
    const size = this.map.getSize();
    const free = (x, y, w, h) => {
      const box = [x - w / 2 - 3, y - h / 2 - 2, x + w / 2 + 3, y + h / 2 + 2];
      if (boxes.some((o) => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]))
        return false;
      boxes.push(box);
      return true;
    };
    for (const p of places) {
      const pt = this.map.latLngToContainerPoint([p.lat, p.lon]);
      const name = p.names.en;
      if (!free(pt.x, pt.y, name.length * LABEL_PX + 8, 18)) continue;
      const big = p.population >= 100000 ? "town" : "";
      L.marker([p.lat, p.lon], {
        icon: labelIcon(name, big),
        pane: "places",
        interactive: false,
        keyboard: false,
      }).addTo(this.layer);
      this.shown.push(name);
    }
    if (nearest && !this.map.getBounds().contains([nearest.lat, nearest.lon])) {
      // named at the edge of the view, towards it: "↗ Pokrovsk 2.2 km"
      const at = this.map.latLngToContainerPoint([nearest.lat, nearest.lon]);
      const x = Math.max(EDGE * 5, Math.min(size.x - EDGE * 5, at.x));
      const y = Math.max(EDGE * 2, Math.min(size.y - EDGE * 3, at.y));
      const dx = at.x - size.x / 2;
      const dy = at.y - size.y / 2;
      const arrow = ["→", "↘", "↓", "↙", "←", "↖", "↑", "↗"][
        (Math.round(Math.atan2(dy, dx) / (Math.PI / 4)) + 8) % 8
      ];
      const text = `${arrow} ${nearest.names.en} ${nearest.km.toFixed(1)} km`;
      L.marker(this.map.containerPointToLatLng([x, y]), {
        icon: labelIcon(text, "edge"),
        pane: "places",
        interactive: false,
        keyboard: false,
      }).addTo(this.layer);
      this.shown.push(text);
    }
  }
}

/** Lines of latitude and longitude at a round step that gives a few across the view,
 * labelled at the map's top and left edges. */
export class Graticule {
  constructor(map) {
    this.map = map;
    map.createPane("graticule").style.zIndex = 260; // over tiles, under the agreement
    map.getPane("graticule").style.pointerEvents = "none";
    this.renderer = L.svg({ pane: "graticule", padding: 0.2 });
    this.layer = L.layerGroup().addTo(map);
    map.on("moveend", this.draw, this);
    this.step = null;
  }

  draw() {
    const map = this.map;
    const b = map.getBounds();
    const span = Math.max(b.getEast() - b.getWest(), b.getNorth() - b.getSouth());
    const step = STEPS.find((s, k) => span / s >= 3 || k === STEPS.length - 1);
    const digits = Math.max(0, Math.ceil(-Math.log10(step) + 1e-9));
    this.layer.clearLayers();
    this.step = step;
    const line = { renderer: this.renderer, interactive: false, color: "#475569", weight: 0.8, opacity: 0.6 };
    const nw = map.containerPointToLatLng([0, 0]);
    const lines = [];
    for (let lon = Math.ceil(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
      L.polyline([[b.getSouth(), lon], [b.getNorth(), lon]], line).addTo(this.layer);
      lines.push(["lon", lon]);
    }
    for (let lat = Math.ceil(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
      L.polyline([[lat, b.getWest()], [lat, b.getEast()]], line).addTo(this.layer);
      lines.push(["lat", lat]);
    }
    for (const [kind, v] of lines) {
      const text =
        kind === "lon"
          ? `${Math.abs(v).toFixed(digits)}° ${v < 0 ? "W" : "E"}`
          : `${Math.abs(v).toFixed(digits)}° ${v < 0 ? "S" : "N"}`;
      const at = kind === "lon" ? [nw.lat, v] : [v, nw.lng];
      L.marker(at, {
        icon: L.divIcon({ className: `grid-label ${kind}`, html: `<span>${text}</span>`, iconSize: null }),
        pane: "graticule",
        interactive: false,
        keyboard: false,
      }).addTo(this.layer);
    }
  }
}

/** The readout at the map's foot: latitude, longitude and MGRS under the cursor (the
 * map's centre until the cursor is over it), and where the centre is from its nearest
 * settlement, in the report's words. */
export const CursorReadout = L.Control.extend({
  options: { position: "bottomleft" },

  onAdd(map) {
    const box = L.DomUtil.create("div", "cursor-readout");
    box.setAttribute("aria-live", "off");
    this.where = L.DomUtil.create("div", "readout-point", box);
    this.near = L.DomUtil.create("div", "readout-near", box);
    L.DomEvent.disableClickPropagation(box);
    this.box = box;
    map.on("mousemove", (e) => this.show(e.latlng), this);
    map.on("moveend", () => this.show(map.getCenter()), this);
    this.show(map.getCenter());
    return box;
  },

  show(latlng) {
    const map = this._map;
    const lat = latlng.lat;
    const lon = latlng.lng;
    const mpp = (40075016.7 * Math.cos((lat * Math.PI) / 180)) / (256 * 2 ** map.getZoom());
    const digits = mgrsDigits(mpp);
    const ref = mgrsOf(lon, lat, digits);
    this.box.dataset.mgrs = ref;
    this.box.dataset.digits = String(digits);
    this.box.dataset.lon = String(lon);
    this.box.dataset.lat = String(lat);
    this.where.textContent =
      `${Math.abs(lat).toFixed(5)}° ${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(5)}° ${lon < 0 ? "W" : "E"}` +
      (ref ? ` · MGRS ${spaced(ref)}` : "");
  },

  setNearest(nearest) {
    this.near.textContent = nearest ? `Map centre: ${nearest.label}` : "";
  },
});
