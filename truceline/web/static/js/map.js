// The map: Leaflet over an offline base map (world-atlas countries, Natural Earth), the
// agreement's control areas, line of contact and zones, and every incident as a circle
// coloured by the party it is attributed to and sized by confidence. Incidents are drawn on
// one canvas (Leaflet's canvas renderer) so that 50,000 stay smooth; `?renderer=svg` draws
// them as SVG elements instead (the benchmark's baseline). Zoomed in, each incident shows its
// 95 % uncertainty ellipses (origin and impact) and the line from origin to impact.

/* global L, topojson */

export const UNDETERMINED = "#4b5563";
const PALETTE = ["#1d4ed8", "#c2410c", "#047857", "#7e22ce", "#a16207"];
const DETAIL_ZOOM = 10;
const DETAIL_MAX = 2000;
const K95 = Math.sqrt(5.991); // 95 % of a 2-D normal lies within this many sigmas

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

export class IncidentMap {
  constructor(container, { renderer = "canvas", onOpen = () => {} } = {}) {
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
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution("Leaflet · Natural Earth (world-atlas)");
    for (const [name, z] of [["basemap", 200], ["agreement", 300]]) {
      this.map.createPane(name).style.zIndex = z;
    }
    this.baseRenderer = L.canvas({ pane: "basemap", padding: 0.3 });
    this.agreementRenderer = L.canvas({ pane: "agreement", padding: 0.3 });
    this.renderer = renderer === "svg" ? L.svg({ padding: 0.3 }) : L.canvas({ padding: 0.3 });
    this.detailRenderer = L.canvas({ padding: 0.3 });
    this.markers = [];
    this.shown = new Uint8Array(0);
    this.layer = L.layerGroup().addTo(this.map);
    this.detail = L.layerGroup().addTo(this.map);
    this.map.on("moveend zoomend", () => this.updateDetail());
    this.map.setView([48, 36], 6);
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
    L.geoJSON(agreement.zones, {
      ...common,
      style: { color: "#6b21a8", weight: 2, dashArray: "6 4", fillColor: "#6b21a8", fillOpacity: 0.08 },
    }).addTo(this.map);
    L.geoJSON(agreement.line, {
      ...common,
      style: { color: "#111827", weight: 3, opacity: 0.9 },
    }).addTo(this.map);
    const bounds = control.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [10, 10] });
  }

  /** Make (but do not yet show) one marker per incident. */
  setIncidents(features, colours) {
    this.layer.clearLayers();
    this.features = features;
    this.markers = features.map((f, i) => {
      const [lon, lat] = f.geometry.coordinates;
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
    this.shown = new Uint8Array(features.length);
  }

  /** Show the incidents whose mask is 1 (adding and removing only what changed). Resolves
   * once the browser has painted the result. */
  show(mask) {
    this.mask = mask;
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

  /** Zoomed in: uncertainty ellipses and origin → impact lines of the incidents in view. */
  updateDetail() {
    this.detail.clearLayers();
    if (!this.features || this.map.getZoom() < DETAIL_ZOOM) return;
    const view = this.map.getBounds().pad(0.2);
    let n = 0;
    for (let i = 0; i < this.features.length && n < DETAIL_MAX; i++) {
      if (!this.shown[i]) continue;
      const p = this.features[i].properties;
      const ll = this.markers[i].getLatLng();
      if (!view.contains(ll)) continue;
      n++;
      const opts = { renderer: this.detailRenderer, interactive: false, weight: 1.2 };
      const colour = this.markers[i].options.fillColor;
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
      if (p.origin && p.impact) {
        L.polyline(
          [
            [p.origin[1], p.origin[0]],
            [p.impact[1], p.impact[0]],
          ],
          { ...opts, color: colour, opacity: 0.7, dashArray: "2 4" },
        ).addTo(this.detail);
      }
    }
  }

  focus(i) {
    const m = this.markers[i];
    if (!m) return;
    this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 12));
  }

  highlight(i) {
    if (this.selected) this.selected.setStyle({ color: "#ffffff", weight: 0.8 });
    this.selected = this.markers[i] || null;
    if (this.selected) this.selected.setStyle({ color: "#000000", weight: 3 });
  }
}
