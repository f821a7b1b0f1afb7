// Two small charts of the incidents shown (the filtered set): how many in each sector of
// the line of contact (the report's sectors; a bar, clicked, adds or removes its sector
// from the filter), and how many in each hour of the day (UTC). Canvas bars with the
// counts in each chart's accessible name and in a table for screen readers.

import { clear, el } from "./dom.js";
import { sectorName } from "./timeline.js";

const BAR = "#1e3a8a";
const AXIS = "#1f2937";

function counts(mask, keyOf, size) {
  const out = new Uint32Array(size);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const k = keyOf(i);
    if (k >= 0 && k < size) out[k]++;
  }
  return out;
}

function bars(canvas, values, labels, every) {
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const top = Math.max(1, ...values);
  const base = h - 14;
  const bw = w / Math.max(1, values.length);
  g.fillStyle = BAR;
  values.forEach((v, k) => {
    const bh = (v / top) * (base - 12);
    g.fillRect(k * bw + 0.5, base - bh, Math.max(1, bw - 1), bh);
  });
  g.fillStyle = AXIS;
  g.font = "10px system-ui, sans-serif";
  g.textBaseline = "bottom";
  labels.forEach((text, k) => {
    if (k % every) return;
    g.fillText(text, k * bw + 1, h - 1);
  });
  g.textBaseline = "top";
  g.fillText(`max ${top}`, 2, 0);
}

export class Charts {
  /** `root`: the element holding two canvases (#chart-sector, #chart-hour) and a table. */
  constructor(root, { onSector }) {
    this.root = root;
    this.sector = root.querySelector("#chart-sector");
    this.hour = root.querySelector("#chart-hour");
    this.table = root.querySelector("#chart-table");
    this.onSector = onSector;
    this.sector.addEventListener("click", (e) => {
      if (!this.nSectors) return;
      const k = Math.floor((e.offsetX / this.sector.clientWidth) * this.nSectors);
      if (k >= 0 && k < this.nSectors) this.onSector(String(k));
    });
    new ResizeObserver(() => this.draw()).observe(root);
  }

  /** The incidents' sectors and times (from Filters' arrays), and the line's sectors. */
  setData(filters, sectors) {
    this.filters = filters;
    this.nSectors = sectors?.count ?? 1 + Math.max(-1, ...filters.sector.map(Number));
    this.km = sectors?.km ?? 25;
    this.hourOf = Array.from(filters.t, (t) => new Date(t).getUTCHours());
  }

  update(mask) {
    this.mask = mask;
    this.draw();
  }

  draw() {
    if (!this.mask || !this.filters) return;
    const f = this.filters;
    const bySector = counts(this.mask, (i) => Number(f.sector[i]), this.nSectors);
    const byHour = counts(this.mask, (i) => this.hourOf[i], 24);
    const sectorLabels = Array.from(bySector, (_, k) => String(k + 1));
    bars(this.sector, [...bySector], sectorLabels, Math.ceil(this.nSectors / 12));
    bars(this.hour, [...byHour], Array.from({ length: 24 }, (_, k) => String(k).padStart(2, "0")), 3);
    const busiest = (arr) => arr.indexOf(Math.max(...arr));
    const s = busiest([...bySector]);
    const hr = busiest([...byHour]);
    this.sector.setAttribute(
      "aria-label",
      `Incidents shown by sector of the line (${this.km} km each): most in sector ${sectorName(s, this.km)}, ${bySector[s]}. Click a bar to filter by its sector.`,
    );
    this.hour.setAttribute(
      "aria-label",
      `Incidents shown by hour of the day (UTC): most at ${String(hr).padStart(2, "0")}:00, ${byHour[hr]}.`,
    );
    const rows = [...bySector]
      .map((v, k) => [sectorName(k, this.km), v])
      .filter(([, v]) => v > 0)
      .map(([name, v]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, String(v))));
    clear(this.table).append(
      el("caption", {}, "Incidents shown by sector"),
      el("tr", {}, el("th", { scope: "col" }, "sector"), el("th", { scope: "col" }, "incidents")),
      ...rows,
    );
    this.root.dataset.sectors = [...bySector].join(",");
    this.root.dataset.hours = [...byHour].join(",");
  }
}
