// The timeline and the filters: a histogram of incidents over time (canvas), a time range
// (two sliders, and a date and time for each end, in UTC), filters of several choices by
// clause, party, weapon, status and sector, a minimum confidence and a search by id. All
// filtering is client-side over arrays built once from the incidents the API returned.
// Within a filter the choices are alternatives (C1 or C2); the filters all apply at once.

import { MultiChoice } from "./choices.js";
import { el, fmtTime } from "./dom.js";

const STEPS = 1000;
const BINS = 96;
export const CHOICES = ["clause", "party", "weapon", "status", "sector"];

/** "2026-03-01T10:05" (what a datetime-local input holds, read as UTC) to ms, or NaN. */
export function utcInput(value) {
  if (!value) return NaN;
  return Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
}

function toInput(ms) {
  return new Date(ms).toISOString().slice(0, 16);
}

export function sectorName(k, km) {
  return k < 0 ? "no position" : `${k + 1} (km ${k * km}–${(k + 1) * km})`;
}

export class Filters {
  /** `f`: the controls by name: clause, party, weapon, status, sector (<details> of
   * choices), confidence, from, to (sliders), fromDate, toDate (datetime-local), search. */
  constructor(f, canvas, onChange) {
    this.f = f;
    this.canvas = canvas;
    this.onChange = onChange;
    this.choice = {};
    for (const name of CHOICES) {
      this.choice[name] = new MultiChoice(f[name], f[name].dataset.label, () => this.changed());
    }
    for (const name of ["confidence", "from", "to"]) {
      f[name].addEventListener("input", () => {
        if (name !== "confidence") this.fromSliders();
        this.changed();
      });
    }
    for (const name of ["fromDate", "toDate"]) {
      f[name].addEventListener("change", () => this.fromDates());
    }
    f.search.addEventListener("input", () => this.changed());
    new ResizeObserver(() => this.drawHistogram()).observe(canvas);
  }

  reset() {
    for (const name of CHOICES) this.choice[name].set([]);
    this.f.confidence.value = 0;
    this.f.search.value = "";
    this.a = this.t0;
    this.b = this.t1;
    this.placeSliders();
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
    this.sector = new Array(n);
    this.clauses = new Array(n);
    this.ids = new Array(n);
    const weapons = new Set();
    const statuses = new Set();
    const sectors = new Set();
    let t0 = Infinity;
    let t1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const p = features[i].properties;
      const t = Date.parse(p.time_start);
      this.t[i] = t;
      if (t < t0) t0 = t;
      if (t > t1) t1 = t;
      this.conf[i] = p.confidence ?? 0;
      this.party[i] = p.attributed_to || "undetermined";
      this.weapon[i] = p.weapon || "unknown";
      this.status[i] = p.status || "";
      this.sector[i] = String(p.sector ?? -1);
      this.clauses[i] = p.violations || [];
      this.ids[i] = p.id.toLowerCase();
      weapons.add(this.weapon[i]);
      statuses.add(this.status[i]);
      sectors.add(this.sector[i]);
    }
    if (!n) t0 = t1 = Date.now();
    this.t0 = t0;
    this.t1 = Math.max(t1, t0 + 1);
    this.a = this.t0;
    this.b = this.t1;
    const clauses = agreement?.clauses || [];
    this.choice.clause.setOptions(
      clauses.map((c) => c.id),
      Object.fromEntries(clauses.map((c) => [c.id, `${c.id} — ${c.text}`])),
    );
    const parties = agreement?.parties || [];
    this.choice.party.setOptions(
      [...parties.map((p) => p.id), "undetermined"],
      Object.fromEntries(parties.map((p) => [p.id, `${p.id} — ${p.name}`])),
    );
    this.choice.weapon.setOptions([...weapons].sort());
    this.choice.status.setOptions([...statuses].sort());
    this.km = agreement?.sectors?.km ?? 25;
    const order = [...sectors].map(Number).sort((x, y) => x - y).map(String);
    this.choice.sector.setOptions(order, Object.fromEntries(order.map((k) => [k, sectorName(Number(k), this.km)])));
    for (const d of [this.f.fromDate, this.f.toDate]) {
      d.min = toInput(this.t0);
      d.max = toInput(this.t1 + 60000);
    }
    this.f.from.max = this.f.to.max = STEPS;
    this.placeSliders();
    this.changed(true);
  }

  /** The state a URL keeps: the chosen values, the confidence, the range, the search. */
  state() {
    const out = {};
    for (const name of CHOICES) out[name] = [...this.choice[name].chosen];
    out.min = Number(this.f.confidence.value);
    out.from = this.a > this.t0 ? this.a : null;
    out.to = this.b < this.t1 ? this.b : null;
    out.q = this.f.search.value.trim();
    return out;
  }

  /** Apply a state (from a URL), then filter once. */
  apply(s) {
    for (const name of CHOICES) if (s[name]) this.choice[name].set(s[name]);
    if (Number.isFinite(s.min)) this.f.confidence.value = s.min;
    if (Number.isFinite(s.from)) this.a = Math.max(this.t0, Math.min(this.t1, s.from));
    if (Number.isFinite(s.to)) this.b = Math.max(this.t0, Math.min(this.t1, s.to));
    if (s.q) this.f.search.value = s.q;
    this.placeSliders();
    this.changed();
  }

  fromSliders() {
    let a = Number(this.f.from.value);
    let b = Number(this.f.to.value);
    if (a > b) [a, b] = [b, a];
    const span = this.t1 - this.t0;
    this.a = this.t0 + (span * a) / STEPS;
    this.b = this.t0 + (span * b) / STEPS;
    this.f.fromDate.value = toInput(this.a);
    this.f.toDate.value = toInput(this.b);
  }

  fromDates() {
    const a = utcInput(this.f.fromDate.value);
    const b = utcInput(this.f.toDate.value);
    // a time typed to the minute: the range holds that whole minute at its end
    this.a = Number.isFinite(a) ? Math.max(this.t0, a) : this.t0;
    this.b = Number.isFinite(b) ? Math.min(this.t1, b + 59999) : this.t1;
    if (this.a > this.b) [this.a, this.b] = [this.b, this.a];
    this.placeSliders(false);
    this.changed();
  }

  placeSliders(dates = true) {
    const span = this.t1 - this.t0;
    this.f.from.value = Math.floor(((this.a - this.t0) / span) * STEPS);
    this.f.to.value = Math.ceil(((this.b - this.t0) / span) * STEPS);
    if (dates) {
      this.f.fromDate.value = toInput(this.a);
      this.f.toDate.value = toInput(this.b);
    }
  }

  range() {
    return [this.a, this.b];
  }

  /** 1 for each incident that passes every filter but time in `other`, and time in `mask`. */
  compute() {
    const want = {};
    for (const name of CHOICES) want[name] = this.choice[name].chosen;
    const minConf = Number(this.f.confidence.value) / 100;
    const q = this.f.search.value.trim().toLowerCase();
    const [a, b] = this.range();
    const other = new Uint8Array(this.n);
    const mask = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) {
      if (want.clause.size && !this.clauses[i].some((c) => want.clause.has(c))) continue;
      if (want.party.size && !want.party.has(this.party[i])) continue;
      if (want.weapon.size && !want.weapon.has(this.weapon[i])) continue;
      if (want.status.size && !want.status.has(this.status[i])) continue;
      if (want.sector.size && !want.sector.has(this.sector[i])) continue;
      if (this.conf[i] < minConf) continue;
      if (q && !this.ids[i].includes(q)) continue;
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
