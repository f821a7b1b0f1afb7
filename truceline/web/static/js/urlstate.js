// The view in the address, so it can be shared: the filters, the time range, the search,
// the open dossier and the map's view live in the fragment (after "#", never sent to the
// server), e.g. #clause=C1,C2&party=S&min=50&from=2026-03-01T06:00:00Z&incident=inc-…&at=48.1,37.5,9
// The query string keeps what it had (?key=, ?renderer=, ?paging=).

import { CHOICES } from "./timeline.js";

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** What the fragment says (unknown keys and malformed values are ignored). */
export function readView(hash = location.hash) {
  const q = new URLSearchParams(hash.replace(/^#/, ""));
  const out = {};
  for (const name of CHOICES) {
    if (q.get(name)) out[name] = q.get(name).split(",").filter(Boolean);
  }
  const min = Number(q.get("min"));
  if (q.has("min") && Number.isFinite(min) && min >= 0 && min <= 100) out.min = min;
  for (const end of ["from", "to"]) {
    const t = Date.parse(q.get(end) || "");
    if (Number.isFinite(t)) out[end] = t;
  }
  if (q.get("q")) out.q = q.get("q").slice(0, 128);
  if (q.get("density") === "1") out.density = true;
  if (q.get("incident")) out.incident = q.get("incident").slice(0, 128);
  const at = (q.get("at") || "").split(",").map(Number);
  if (at.length === 3 && at.every(Number.isFinite) && Math.abs(at[0]) <= 90 && at[2] >= 0 && at[2] <= 20) {
    out.at = at;
  }
  return out;
}

/** The fragment of a view: the filters' state, the open dossier, the map's centre and zoom. */
export function viewHash(state, incident, at) {
  const q = new URLSearchParams();
  for (const name of CHOICES) if (state[name]?.length) q.set(name, state[name].join(","));
  if (state.min) q.set("min", String(state.min));
  // to the second, outwards: a shared range keeps its first and last incidents
  if (state.from !== null && state.from !== undefined) q.set("from", iso(Math.floor(state.from / 1000) * 1000));
  if (state.to !== null && state.to !== undefined) q.set("to", iso(Math.ceil(state.to / 1000) * 1000));
  if (state.q) q.set("q", state.q);
  if (state.density) q.set("density", "1");
  if (incident) q.set("incident", incident);
  if (at) q.set("at", `${at[0].toFixed(4)},${at[1].toFixed(4)},${at[2]}`);
  const text = q.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
  return text ? `#${text}` : "";
}

/** Replace the address's fragment (no new history entry for each slider step). */
export function keepView(hash) {
  if (hash === location.hash || (!hash && !location.hash)) return;
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
}
