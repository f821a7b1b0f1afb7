// The map: Leaflet over an offline base map (world-atlas countries, Natural Earth), the
// agreement's control areas, line of contact and zones, and every incident as a circle
// coloured by the party it is attributed to and sized by confidence. Zoomed in, each incident
// shows its 95 % uncertainty ellipses (origin and impact) and the line from origin to impact.
//
// Incidents are drawn by PointLayer: one canvas, positions projected from typed arrays, one
// path per colour, so 50,000 incidents draw and filter in tens of milliseconds. The
// benchmark's baselines draw them as one Leaflet circleMarker each instead, on Leaflet's
// canvas renderer (`?renderer=markers`) or as SVG elements (`?renderer=svg`).
//
// An incident is drawn at its impact (else its origin); `setAnchor("origin")` draws it where
// the gun stood instead, with a line to the impact: what a withdrawal clause is about. The
// map also draws the agreement's withdrawal bands, the gazetteer's place names, a graticule,
// a scale bar, the cursor's coordinates and MGRS reference (maplayers.js) and, where the
// server has them (`truceline serve --tiles`), the mission's own tiles under everything.

/* global L, topojson */

import { CursorReadout, Graticule, PlaceLabels } from "./maplayers.js";

export const UNDETERMINED = "#4b5563";
const PALETTE = ["#1d4ed8", "#c2410c", "#047857", "#7e22ce", "#a16207"];
const DETAIL_ZOOM = 10;
const DETAIL_MAX = 2000;
const K95 = Math.sqrt(5.991); // 95 % of a 2-D normal lies within this many sigmas
const FOCUS_ZOOM = [DETAIL_ZOOM, 15]; // a selected incident is shown at least, at most this close

/** Where the map should draw incidents for the clauses a filter selects: at the origin
 * ("origin", where the gun stood) if any of them is a presence clause (a withdrawal line or
 * an area the equipment must leave), else at the impact ("impact"). */
export function anchorFor(clauseIds, agreement) {
  const kinds = Object.fromEntries((agreement?.clauses || []).map((c) => [c.id, c.kind]));
  return (clauseIds || []).some((id) => kinds[id] === "presence") ? "origin" : "impact";
}

export function partyColours(parties) {
  const out = {};
  parties.forEach((p, i) => (out[p.id] = PALETTE[i % PALETTE.length]));
  return out;
}

export function radiusFor(confidence) {
  return 2.5 + 5 * Math.max(0, Math.min(1, confidence ?? 0));
}

function ellipse(center, cov, sigma) {
  // center [lon, lat]; cov [xx, xy, yy] in m² (east, north); or a circle of sigma metres
  let l1, l2, theta;
  if (cov && cov.length === 3) {
    const [xx, xy, yy] = cov;
    const a = (xx + yy) / 2;
    const b = Math.sqrt(((xx - yy) / 2) ** 2 + xy ** 2);
    l1 = Math.max(a + b, 0);
    l2 = Math.max(a - b, 0);
    theta = 0.5 * Math.atan2(2 * xy, xx - yy);
  } else if (sigma) {
    l1 = l2 = sigma * sigma;
    theta = 0;
  } else {
    return null;
  }
  const mPerDegLat = 111320;
  const mPerDegLon = 111320 * Math.cos((center[1] * Math.PI) / 180);
  const ra = K95 * Math.sqrt(l1);
  const rb = K95 * Math.sqrt(l2);
  const pts = [];
  for (let i = 0; i < 36; i++) {
    const t = (i / 36) * 2 * Math.PI;
    const x = ra * Math.cos(t) * Math.cos(theta) - rb * Math.sin(t) * Math.sin(theta);
    const y = ra * Math.cos(t) * Math.sin(theta) + rb * Math.sin(t) * Math.cos(theta);
    pts.push([center[1] + y / mPerDegLat, center[0] + x / mPerDegLon]);
  }
  return pts;
}

const PointLayer = L.Layer.extend({
  options: { pane: "overlayPane", padding: 0.3 },

  initialize(options) {
    L.setOptions(this, options);
    this.n = 0;
    this.mask = new Uint8Array(0);
    this.selected = -1;
    this.drawn = 0;
    this.colours = [];
  },

  /** lon, lat (degrees), colour index into `colours`, radius (px), for n incidents. */
  setData(lon, lat, colour, radius, colours) {
    this.n = lon.length;
    this.mx = new Float64Array(this.n);
    this.my = new Float64Array(this.n);
    this.colour = colour;
    this.radius = radius;
    this.colours = colours;
    this.x = new Float32Array(this.n);
    this.y = new Float32Array(this.n);
    this.mask = new Uint8Array(this.n);
    this.setPositions(lon, lat);
  },

  /** Move the incidents (lon, lat in degrees), keeping what is shown and selected. */
  setPositions(lon, lat) {
    for (let i = 0; i < this.n; i++) {
      // Web Mercator (EPSG:3857) in [0, 1]: Leaflet's own projection, without the objects
      const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat[i])) * Math.PI) / 180);
      this.mx[i] = (lon[i] + 180) / 360;
      this.my[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    }
    if (this._map) this._reset();
  },

  setMask(mask) {
    this.mask = mask;
    this._draw();
  },

  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide truceline-points");
    this.getPane().appendChild(this._canvas);
    map.on("moveend zoomend resize viewreset", this._reset, this);
    map.on("click", this._click, this);
    map.on("mousemove", this._hover, this);
    this._reset();
  },

  onRemove(map) {
    L.DomUtil.remove(this._canvas);
    map.off("moveend zoomend resize viewreset", this._reset, this);
    map.off("click", this._click, this);
    map.off("mousemove", this._hover, this);
  },

  _reset() {
    const map = this._map;
    const size = map.getSize();
    const pad = size.multiplyBy(this.options.padding).round();
    this._min = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
    const w = size.x + 2 * pad.x;
    const h = size.y + 2 * pad.y;
    const dpr = window.devicePixelRatio || 1;
    const c = this._canvas;
    L.DomUtil.setPosition(c, this._min);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    this._w = w;
    this._h = h;
    this._dpr = dpr;
    // layer point = world pixel − pixel origin; canvas point = layer point − _min
    const scale = 256 * 2 ** map.getZoom();
    const origin = map.getPixelOrigin().add(this._min);
    for (let i = 0; i < this.n; i++) {
      this.x[i] = this.mx[i] * scale - origin.x;
      this.y[i] = this.my[i] * scale - origin.y;
    }
    this._draw();
  },

  _draw() {
    if (!this._canvas) return;
    const g = this._canvas.getContext("2d");
    g.setTransform(this._dpr, 0, 0, this._dpr, 0, 0);
    g.clearRect(0, 0, this._w, this._h);
    g.lineWidth = 0.8;
    g.strokeStyle = "#ffffff";
    g.globalAlpha = 0.9;
    let drawn = 0;
    for (let k = 0; k < this.colours.length; k++) {
      g.beginPath();
      for (let i = 0; i < this.n; i++) {
        if (!this.mask[i] || this.colour[i] !== k) continue;
        const x = this.x[i];
        const y = this.y[i];
        const r = this.radius[i];
        if (x < -r || y < -r || x > this._w + r || y > this._h + r) continue;
        g.moveTo(x + r, y);
        g.arc(x, y, r, 0, 2 * Math.PI);
        drawn++;
      }
      g.fillStyle = this.colours[k];
      g.fill();
      g.stroke();
    }
    g.globalAlpha = 1;
    const s = this.selected;
    if (s >= 0 && this.mask[s]) {
      g.beginPath();
      g.arc(this.x[s], this.y[s], this.radius[s] + 2, 0, 2 * Math.PI);
      g.lineWidth = 3;
      g.strokeStyle = "#000000";
      g.stroke();
    }
    this.drawn = drawn;
  },

  /** The incident drawn under a layer point (the topmost, nearest), or -1. */
  hit(layerPoint) {
    const px = layerPoint.x - this._min.x;
    const py = layerPoint.y - this._min.y;
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < this.n; i++) {
      if (!this.mask[i]) continue;
      const d = (this.x[i] - px) ** 2 + (this.y[i] - py) ** 2;
      const r = this.radius[i] + 2;
      if (d <= r * r && d <= bestD) {
        best = i;
        bestD = d;
      }
    }
    return best;
  },

  _click(e) {
    const i = this.hit(e.layerPoint);
    if (i >= 0) this.fire("incidentclick", { index: i });
  },

  _hover(e) {
    if (this._hoverQueued) return;
    this._hoverQueued = true;
    requestAnimationFrame(() => {
      this._hoverQueued = false;
      if (!this._map) return; // removed meanwhile (the density view took its place)
      this._map.getContainer().style.cursor = this.hit(e.layerPoint) >= 0 ? "pointer" : "";
    });
  },
});

export class IncidentMap {
  constructor(container, { renderer = "points", onOpen = () => {} } = {}) {
    this.mode = renderer;
    this.onOpen = onOpen;
    this.map = L.map(container, {
      preferCanvas: true,
      zoomSnap: 0.5,
      maxZoom: 18,
      minZoom: 3,
      worldCopyJump: false,
      attributionControl: true,
      keyboard: true,
    });
    this.map.setView([48, 36], 6); // (the controls below read the view)
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution("Leaflet · Natural Earth (world-atlas)");
    for (const [name, z] of [["basemap", 200], ["tiles", 250], ["agreement", 300]]) {
      this.map.createPane(name).style.zIndex = z;
    }
    this.anchor = "impact";
    container.dataset.anchor = "impact";
    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(this.map);
    this.readout = new CursorReadout().addTo(this.map);
    this.graticule = new Graticule(this.map);
    this.places = new PlaceLabels(this.map, (near) => this.readout.setNearest(near));
    // the dossier opens beside the map, which shrinks: Leaflet must learn its new size
    new ResizeObserver(() => this.map.invalidateSize({ pan: false })).observe(container);
    this.baseRenderer = L.canvas({ pane: "basemap", padding: 0.3 });
    this.agreementRenderer = L.canvas({ pane: "agreement", padding: 0.3 });
    this.renderer = renderer === "svg" ? L.svg({ padding: 0.3 }) : L.canvas({ padding: 0.3 });
    this.points = new PointLayer().addTo(this.map);
    this.points.on("incidentclick", (e) => this.onOpen(e.index));
    this.detailRenderer = L.canvas({ padding: 0.3 });
    this.markers = [];
    this.shown = new Uint8Array(0);
    this.layer = L.layerGroup().addTo(this.map);
    this.detail = L.layerGroup().addTo(this.map);
    this.map.on("moveend zoomend", () => this.updateDetail());
    this.graticule.draw();
  }

  /** The mission's own raster tiles (GET /v1/map's `tiles`), under the agreement and the
   * incidents; beyond them the country outlines stay. */
  setTiles(tiles) {
    if (!tiles) return;
    this.tiles = L.tileLayer(tiles.url, {
      pane: "tiles",
      // below the file's zooms the layer is hidden (the outlines show); above, its
      // deepest tiles are enlarged
      minZoom: tiles.minzoom,
      maxZoom: 18,
      maxNativeZoom: tiles.maxzoom,
      bounds: tiles.bounds || undefined,
      attribution: tiles.attribution || tiles.name,
      crossOrigin: false,
    }).addTo(this.map);
  }

  /** Name the gazetteer's places (when the server has them: GET /v1/map's `places`). */
  showPlaces(available) {
    if (available) this.places.enable();
  }

  drawBase(topo) {
    const land = topojson.feature(topo, topo.objects.countries);
    L.geoJSON(land, {
      pane: "basemap",
      renderer: this.baseRenderer,
      interactive: false,
      style: { color: "#8a94a3", weight: 0.7, fillColor: "#f3f1ea", fillOpacity: 1 },
    }).addTo(this.map);
  }

  drawAgreement(agreement, colours) {
    const common = { pane: "agreement", renderer: this.agreementRenderer, interactive: false };
    const control = L.geoJSON(agreement.control, {
      ...common,
      style: (f) => ({
        color: colours[f.properties.party] || UNDETERMINED,
        weight: 1,
        opacity: 0.5,
        fillColor: colours[f.properties.party] || UNDETERMINED,
        fillOpacity: 0.07,
      }),
    }).addTo(this.map);
    // each party's withdrawal bands (the widest first): its own side within a clause's
    // distance of the line, where that clause's weapons may not stand
    this.bands = L.geoJSON(agreement.bands || { type: "FeatureCollection", features: [] }, {
      ...common,
      style: (f) => ({
        color: colours[f.properties.party] || UNDETERMINED,
        weight: 1.2,
        opacity: 0.8,
        dashArray: "2 5",
        fillColor: colours[f.properties.party] || UNDETERMINED,
        fillOpacity: 0.06,
      }),
    }).addTo(this.map);
    L.geoJSON(agreement.zones, {
      ...common,
      style: { color: "#6b21a8", weight: 2, dashArray: "6 4", fillColor: "#6b21a8", fillOpacity: 0.08 },
    }).addTo(this.map);
    L.geoJSON(agreement.line, {
      ...common,
      style: { color: "#111827", weight: 3, opacity: 0.9 },
    }).addTo(this.map);
    const bounds = control.getBounds();
    // not animated: a view set while a zoom animation runs is undone when it ends (Leaflet)
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [10, 10], animate: false });
  }

  /** Take the incidents (none shown until `show`). */
  setIncidents(features, colours) {
    this.layer.clearLayers();
    this.features = features;
    this.shown = new Uint8Array(features.length);
    const n = features.length;
    this.lon = new Float64Array(n); // where each is drawn (its anchor)
    this.lat = new Float64Array(n);
    this.pointLon = new Float64Array(n); // its point: the impact, else the origin
    this.pointLat = new Float64Array(n);
    const palette = [...new Set(Object.values(colours)), UNDETERMINED];
    const index = new Uint8Array(n);
    const radius = new Float32Array(n);
    features.forEach((f, i) => {
      [this.pointLon[i], this.pointLat[i]] = f.geometry.coordinates;
      index[i] = palette.indexOf(colours[f.properties.attributed_to] || UNDETERMINED);
      radius[i] = radiusFor(f.properties.confidence);
    });
    this.colourOf = (i) => palette[index[i]];
    this._place();
    if (this.mode === "points") {
      this.points.setData(this.lon, this.lat, index, radius, palette);
      return;
    }
    this.markers = features.map((f, i) => {
      const [lon, lat] = [this.lon[i], this.lat[i]];
      const p = f.properties;
      const colour = colours[p.attributed_to] || UNDETERMINED;
      const m = L.circleMarker([lat, lon], {
        renderer: this.renderer,
        radius: radiusFor(p.confidence),
        color: "#ffffff",
        weight: 0.8,
        fillColor: colour,
        fillOpacity: 0.85,
      });
      m.on("click", () => this.onOpen(i));
      return m;
    });
  }

  /** Each incident's drawn position for the anchor: its origin, where it has one, when the
   * anchor is "origin"; else its point. */
  _place() {
    for (let i = 0; i < this.features.length; i++) {
      const o = this.anchor === "origin" ? this.features[i].properties.origin : null;
      this.lon[i] = o ? o[0] : this.pointLon[i];
      this.lat[i] = o ? o[1] : this.pointLat[i];
    }
  }

  /** Draw incidents at their "origin" (where the gun stood, with a line to the impact: what
   * a withdrawal clause judges; see `anchorFor`) or at their "impact" (the default). */
  setAnchor(anchor) {
    const want = anchor === "origin" ? "origin" : "impact";
    if (want === this.anchor) return;
    this.anchor = want;
    this.map.getContainer().dataset.anchor = want;
    if (!this.features) return;
    this._place();
    if (this.mode === "points") this.points.setPositions(this.lon, this.lat);
    this.markers.forEach((m, i) => m.setLatLng([this.lat[i], this.lon[i]]));
    this.updateDetail();
  }

  /** [lat, lon] where incident `i` is drawn. */
  position(i) {
    return [this.lat[i], this.lon[i]];
  }

  /** Pan and zoom to incident `i`: both its ends in view, close enough for its ellipses,
   * in the part of the map the dossier leaves visible (the map shrinks beside it). */
  focus(i) {
    if (!this.features || !this.features[i]) return;
    this.map.invalidateSize({ pan: false });
    const p = this.features[i].properties;
    const ends = [this.position(i), ...[p.origin, p.impact].filter(Boolean).map((q) => [q[1], q[0]])];
    const bounds = L.latLngBounds(ends);
    const fit = this.map.getBoundsZoom(bounds.pad(0.6));
    const zoom = Math.max(FOCUS_ZOOM[0], Math.min(FOCUS_ZOOM[1], fit));
    this.map.setView(bounds.getCenter(), zoom, { animate: false });
  }

  /** How many incidents are drawn (in view or not). */
  drawnCount() {
    return this.mode === "points"
      ? this.shown.reduce((a, b) => a + b, 0)
      : this.layer.getLayers().length;
  }

  /** Show the incidents whose mask is 1 (adding and removing only what changed). Resolves
   * once the browser has painted the result. */
  show(mask) {
    this.mask = mask;
    if (this.mode === "points") {
      this.shown = mask;
      this.points.setMask(mask);
    }
    for (let i = 0; i < this.markers.length; i++) {
      if (mask[i] && !this.shown[i]) this.layer.addLayer(this.markers[i]);
      else if (!mask[i] && this.shown[i]) this.layer.removeLayer(this.markers[i]);
      this.shown[i] = mask[i];
    }
    this.updateDetail();
    return new Promise((resolve) =>
      requestAnimationFrame(() => requestAnimationFrame(() => resolve())),
    );
  }

  /** Zoomed in: uncertainty ellipses and origin → impact lines of the incidents in view, and
   * a tracked flight's path with its crossing of the line. */
  updateDetail() {
    this.detail.clearLayers();
    this.tracksDrawn = 0;
    this.anchorLines = 0;
    if (!this.features) return;
    if (this.map.getZoom() < DETAIL_ZOOM) {
      if (this.anchor === "origin") this._anchorLines();
      return;
    }
    const view = this.map.getBounds().pad(0.2);
    let n = 0;
    for (let i = 0; i < this.features.length && n < DETAIL_MAX; i++) {
      if (!this.shown[i]) continue;
      const p = this.features[i].properties;
      const track = p.track && p.track.coordinates && p.track.coordinates.length > 1 ? p.track.coordinates : null;
      const near = [[this.lon[i], this.lat[i]], p.origin, p.impact, ...(track || [])].some(
        (q) => q && view.contains([q[1], q[0]]),
      );
      if (!near) continue;
      n++;
      const opts = { renderer: this.detailRenderer, interactive: false, weight: 1.2 };
      const colour = this.colourOf(i);
      for (const [pt, cov, sigma, dash] of [
        [p.origin, p.origin_cov_m2, p.origin_sigma_m, "4 3"],
        [p.impact, p.impact_cov_m2, p.impact_sigma_m, null],
      ]) {
        if (!pt) continue;
        const ring = ellipse(pt, cov, sigma);
        if (ring) {
          L.polygon(ring, { ...opts, color: colour, fillOpacity: 0.1, dashArray: dash }).addTo(
            this.detail,
          );
        }
      }
      if (track) {
        // a tracked flight: its path (solid), from the launch area to where it ended or
        // struck, and where it crossed the line of contact (a ring)
        L.polyline(
          track.map(([x, y]) => [y, x]),
          { ...opts, color: colour, opacity: 0.85, weight: 2 },
        ).addTo(this.detail);
        if (p.crossing) {
          L.circleMarker([p.crossing[1], p.crossing[0]], {
            ...opts,
            radius: 5,
            color: colour,
            fillOpacity: 0,
            weight: 2,
          }).addTo(this.detail);
        }
        this.tracksDrawn++;
      } else if (p.origin && p.impact) {
        const origin = this.anchor === "origin";
        L.polyline(
          [
            [p.origin[1], p.origin[0]],
            [p.impact[1], p.impact[0]],
          ],
          { ...opts, color: colour, opacity: origin ? 0.9 : 0.7, dashArray: origin ? null : "2 4" },
        ).addTo(this.detail);
        if (origin) this.anchorLines++;
      }
    }
  }

  /** Drawn at their origins, zoomed out: the line from each (shown, in view) to its impact. */
  _anchorLines() {
    const view = this.map.getBounds().pad(0.2);
    const opts = { renderer: this.detailRenderer, interactive: false, weight: 1, opacity: 0.8 };
    for (let i = 0; i < this.features.length && this.anchorLines < DETAIL_MAX; i++) {
      const p = this.features[i].properties;
      if (!this.shown[i] || !p.origin || !p.impact) continue;
      const a = [p.origin[1], p.origin[0]];
      const b = [p.impact[1], p.impact[0]];
      if (!view.contains(a) && !view.contains(b)) continue;
      L.polyline([a, b], { ...opts, color: this.colourOf(i) }).addTo(this.detail);
      this.anchorLines++;
    }
  }

  highlight(i) {
    if (this.mode === "points") {
      this.points.selected = i;
      this.points._draw();
      return;
    }
    if (this.selected) this.selected.setStyle({ color: "#ffffff", weight: 0.8 });
    this.selected = this.markers[i] || null;
    if (this.selected) this.selected.setStyle({ color: "#000000", weight: 3 });
  }
}
