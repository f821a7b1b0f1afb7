// Talking to the Truceline API. The bearer token (if any) is kept in sessionStorage only:
// it is gone when the tab closes. Without a token every request is the public's.

const KEY = "truceline.token";

export function token() {
  return sessionStorage.getItem(KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.detail) || res.statusText);
  return data;
}

/**
 * A file from the API, fetched with the caller's token and handed to the browser to save as
 * `name` (a plain link would not carry the token).
 */
export async function download(path, name) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, { headers });
  if (!res.ok) throw new ApiError(res.status, res.statusText);
  save(await res.blob(), name);
}

/**
 * A file the API makes from a JSON request (POST), handed to the browser to save under the
 * name its Content-Disposition gives (else `fallback`). Returns how many rows it holds
 * (X-Truceline-Rows), where the answer says.
 */
export async function downloadPosted(path, body, fallback) {
  const headers = { "Content-Type": "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  if (!res.ok) {
    let detail = res.statusText;
    try {
      detail = (await res.json()).detail || detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(res.status, detail);
  }
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  save(await res.blob(), named ? named[1] : fallback);
  return Number(res.headers.get("X-Truceline-Rows") ?? NaN);
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Every incident the caller may see, page by page (GET /v1/incidents, limit 1000, following
 * `next`). `onPage(features)` is called as pages arrive.
 */
export async function allIncidents(onPage) {
  const out = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: "1000" });
    if (cursor) q.set("cursor", cursor);
    const page = await api(`/v1/incidents?${q}`);
    out.push(...page.features);
    if (onPage) onPage(page.features, out.length);
    cursor = page.next;
  } while (cursor);
  return out;
}

/** Every incident the caller may see in one answer, with the map's fields only
 * (GET /v1/dashboard/incidents: the same rows as GET /v1/incidents, fewer fields). */
export async function bulkIncidents() {
  return (await api("/v1/dashboard/incidents")).features;
}
