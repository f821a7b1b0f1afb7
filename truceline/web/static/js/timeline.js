// The timeline and the filters: a histogram of incidents over time (canvas), a time range
// (two sliders), and filters by clause, party, weapon, status and minimum confidence. All
// filtering is client-side over arrays built once from the incidents the API returned.

import { el, fmtTime } from "./dom.js";

const STEPS = 1000;
const BINS = 96;

function options(select, values, labels = {}) {
  const keep = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const v of values) select.add(new Option(labels[v] || v, v));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

export class Filters {
  /** `f`: the controls by name (clause, party, weapon, status, confidence, from, to). */
  constructor(f, canvas, onChange) {
    this.f = f;
    this.canvas = canvas;
    this.onChange = onChange;
    for (const control of Object.values(f)) {
      control.addEventListener(control.type === "range" ? "input" : "change", () => this.changed());
    }
    new ResizeObserver(() => this.drawHistogram()).observe(canvas);
  }

  reset() {
    for (const name of ["clause", "party", "weapon", "status"]) this.f[name].value = "";
    this.f.confidence.value = 0;
    this.f.from.value = 0;
    this.f.to.value = STEPS;
    this.changed();
  }

  setData(features, agreement) {
    const n = features.length;
    this.n = n;
    this.t = new Float64Array(n);
    this.conf = new Float64Array(n); // not 32-bit: 0.95 must pass a "≥ 95 %" filter
    this.party = new Array(n);
    this.weapon = new Array(n);
    this.status = new Array(n);
    this.clauses = new Array(n);
    const weapons = new Set();
    const statuses = new Set();
    let t0 = Infinity;
    let t1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const p = features[i].properties;
      const t = Date.parse(p.time_start);
      this.t[i] = t;
      if (t < t0) t0 = t;
      if (t > t1) t1 = t;
      this.conf[i] = p.confidence ?? 0;
      this.party[i] = p.attributed_to || "";
      this.weapon[i] = p.weapon || "unknown";
      this.status[i] = p.status || "";
      this.clauses[i] = p.violations || [];
      weapons.add(this.weapon[i]);
      statuses.add(this.status[i]);
    }
    if (!n) t0 = t1 = Date.now();
    this.t0 = t0;
    this.t1 = Math.max(t1, t0 + 1);
    const clauseText = Object.fromEntries(
      (agreement?.clauses || []).map((c) => [c.id, `${c.id} — ${c.text}`]),
    );
    options(this.f.clause, (agreement?.clauses || []).map((c) => c.id), clauseText);
    const parties = agreement?.parties || [];
    options(
      this.f.party,
      [...parties.map((p) => p.id), "undetermined"],
      Object.fromEntries(parties.map((p) => [p.id, `${p.id} — ${p.name}`])),
    );
    options(this.f.weapon, [...weapons].sort());
    options(this.f.status, [...statuses].sort());
    this.f.from.max = this.f.to.max = STEPS;
    this.f.from.value = 0;
    this.f.to.value = STEPS;
    this.changed(true);
  }

  range() {
    let a = Number(this.f.from.value);
    let b = Number(this.f.to.value);
    if (a > b) [a, b] = [b, a];
    const span = this.t1 - this.t0;
    return [this.t0 + (span * a) / STEPS, this.t0 + (span * b) / STEPS];
  }

  /** 1 for each incident that passes every filter but time in `other`, and time in `mask`. */
  compute() {
    const clause = this.f.clause.value;
    const party = this.f.party.value;
    const weapon = this.f.weapon.value;
    const status = this.f.status.value;
    const minConf = Number(this.f.confidence.value) / 100;
    const [a, b] = this.range();
    const other = new Uint8Array(this.n);
    const mask = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) {
      if (clause && !this.clauses[i].includes(clause)) continue;
      if (party && (party === "undetermined" ? this.party[i] !== "" : this.party[i] !== party))
        continue;
      if (weapon && this.weapon[i] !== weapon) continue;
      if (status && this.status[i] !== status) continue;
      if (this.conf[i] < minConf) continue;
      other[i] = 1;
      if (this.t[i] >= a && this.t[i] <= b) mask[i] = 1;
    }
    this.other = other;
    this.mask = mask;
    return mask;
  }

  changed(initial = false) {
    if (this.n === undefined) return;
    const started = performance.now();
    const [a, b] = this.range();
    document.getElementById("from-out").value = fmtTime(new Date(a).toISOString());
    document.getElementById("to-out").value = fmtTime(new Date(b).toISOString());
    document.getElementById("confidence-out").value = `${this.f.confidence.value} %`;
    const mask = this.compute();
    this.drawHistogram();
    this.onChange(mask, started, initial);
  }

  drawHistogram() {
    const c = this.canvas;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (!w || !h || !this.other) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const all = new Uint32Array(BINS);
    const sel = new Uint32Array(BINS);
    const span = this.t1 - this.t0;
    for (let i = 0; i < this.n; i++) {
      if (!this.other[i]) continue;
      const k = Math.min(BINS - 1, Math.floor(((this.t[i] - this.t0) / span) * BINS));
      all[k]++;
      if (this.mask[i]) sel[k]++;
    }
    const top = Math.max(1, ...all);
    const bw = w / BINS;
    const base = h - 16;
    for (let k = 0; k < BINS; k++) {
      const ha = (all[k] / top) * (base - 4);
      const hs = (sel[k] / top) * (base - 4);
      g.fillStyle = "#c7ccd4";
      g.fillRect(k * bw + 0.5, base - ha, Math.max(1, bw - 1), ha);
      g.fillStyle = "#1e3a8a";
      g.fillRect(k * bw + 0.5, base - hs, Math.max(1, bw - 1), hs);
    }
    g.fillStyle = "#1f2937";
    g.font = "11px system-ui, sans-serif";
    g.textBaseline = "bottom";
    g.fillText(fmtTime(new Date(this.t0).toISOString()), 2, h - 1);
    const end = fmtTime(new Date(this.t1).toISOString());
    g.fillText(end, w - g.measureText(end).width - 2, h - 1);
    const peak = `max ${top} per ${Math.max(1, Math.round(span / BINS / 60000))} min`;
    g.fillText(peak, w / 2 - g.measureText(peak).width / 2, h - 1);
    const selected = sel.reduce((x, y) => x + y, 0);
    c.setAttribute(
      "aria-label",
      `Histogram of incidents over time: ${selected} in the selected range, at most ${top} per bin.`,
    );
  }
}

export function incidentLabel(p) {
  return el(
    "span",
    {},
    el("span", { class: "li-time" }, fmtTime(p.time_start).replace(" UTC", "")),
    " ",
    el("span", { class: "li-kind" }, `${p.kind} · ${p.weapon || "unknown"}`),
    " ",
    el("span", { class: "li-party" }, p.attributed_to ? `→ ${p.attributed_to}` : "undetermined"),
    p.violations && p.violations.length ? ` · ${p.violations.join(", ")}` : "",
  );
}
