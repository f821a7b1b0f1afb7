// A density view for where dots overlap: the incidents shown, counted in square cells of
// CELL pixels on the screen, each cell shaded by its count (square-root scale) and labelled
// with it. It is chosen with the map's "Density" switch and gives way to the dots from
// POINTS_ZOOM on, where the dots no longer overlap. Counting is over typed arrays, so 50,000
// incidents recount on every pan in a few milliseconds.

/* global L */

const CELL = 44;
export const POINTS_ZOOM = 11;

const DensityLayer = L.Layer.extend({
  options: { pane: "overlayPane" },

  initialize(source) {
    this.source = source; // () => ({ lon, lat, mask }) of the incidents shown
    this.counts = [];
  },

  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide truceline-density");
    this.getPane().appendChild(this._canvas);
    map.on("moveend zoomend resize viewreset", this.redraw, this);
    this.redraw();
  },

  onRemove(map) {
    L.DomUtil.remove(this._canvas);
    map.off("moveend zoomend resize viewreset", this.redraw, this);
  },

  /** The cells with incidents: [{x, y, n}] in container pixels (the tests read them). */
  count() {
    const map = this._map;
    const { lon, lat, mask } = this.source();
    const size = map.getSize();
    const cols = Math.ceil(size.x / CELL);
    const rows = Math.ceil(size.y / CELL);
    const grid = new Uint32Array(cols * rows);
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const p = map.latLngToContainerPoint([lat[i], lon[i]]);
      if (p.x < 0 || p.y < 0 || p.x >= size.x || p.y >= size.y) continue;
      grid[Math.floor(p.y / CELL) * cols + Math.floor(p.x / CELL)]++;
    }
    const out = [];
    grid.forEach((n, k) => {
      if (n) out.push({ x: (k % cols) * CELL, y: Math.floor(k / cols) * CELL, n });
    });
    return out;
  },

  redraw() {
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    const c = this._canvas;
    L.DomUtil.setPosition(c, map.containerPointToLayerPoint([0, 0]));
    c.width = Math.round(size.x * dpr);
    c.height = Math.round(size.y * dpr);
    c.style.width = `${size.x}px`;
    c.style.height = `${size.y}px`;
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, size.x, size.y);
    this.counts = this.count();
    const top = Math.max(1, ...this.counts.map((q) => q.n));
    g.font = "bold 12px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    for (const { x, y, n } of this.counts) {
      const share = Math.sqrt(n / top);
      // from a pale blue to the accent blue; the label dark on pale cells, white on dark
      const light = Math.round(92 - 62 * share);
      g.fillStyle = `hsla(224, 64%, ${light}%, 0.85)`;
      g.fillRect(x + 1, y + 1, CELL - 2, CELL - 2);
      g.fillStyle = light > 60 ? "#111827" : "#ffffff";
      g.fillText(String(n), x + CELL / 2, y + CELL / 2);
    }
  },
});

/** The density switch and layer over `incidentMap` (an IncidentMap): the dots are hidden
 * while the density is shown, below POINTS_ZOOM. */
export class Density {
  constructor(incidentMap, source) {
    this.im = incidentMap;
    this.layer = new DensityLayer(source);
    this.on = false;
    const control = L.control({ position: "topleft" });
    control.onAdd = () => {
      const box = L.DomUtil.create("div", "leaflet-bar density-switch");
      const label = L.DomUtil.create("label", "", box);
      this.input = L.DomUtil.create("input", "", label);
      this.input.type = "checkbox";
      this.input.id = "density";
      label.append(" Density");
      label.title = `Counts of the incidents shown per ${CELL} px square (below zoom ${POINTS_ZOOM})`;
      L.DomEvent.disableClickPropagation(box);
      this.input.addEventListener("change", () => this.set(this.input.checked));
      return box;
    };
    control.addTo(incidentMap.map);
    incidentMap.map.on("zoomend", () => this.apply());
  }

  set(on) {
    this.on = on;
    this.input.checked = on;
    this.apply();
  }

  /** Show the density or the dots, as the switch and the zoom say. */
  apply() {
    const map = this.im.map;
    const dense = this.on && map.getZoom() < POINTS_ZOOM;
    if (dense && !map.hasLayer(this.layer)) {
      map.removeLayer(this.im.points);
      this.layer.addTo(map);
    } else if (!dense && map.hasLayer(this.layer)) {
      map.removeLayer(this.layer);
      this.im.points.addTo(map);
    } else if (dense) {
      this.layer.redraw();
    }
  }

  /** The incidents shown changed. */
  update() {
    if (this.im.map.hasLayer(this.layer)) this.layer.redraw();
  }
}
