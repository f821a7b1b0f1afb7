// Checking an inclusion proof in the browser (RFC 9162 §2.1.3.2) with WebCrypto SHA-256:
// leaf hash = SHA-256(0x00 ‖ entry), node hash = SHA-256(0x01 ‖ left ‖ right). The same
// algorithm as truceline.evidence.verify_inclusion, so the page does not have to trust the
// server's "ok": it recomputes the root from the entry's bytes and the path.

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export async function leafHash(entryText) {
  return sha256(LEAF, new TextEncoder().encode(entryText));
}

/** Does `path` (hex hashes) lead from `leaf` at `index` to `root` in a tree of `size`? */
export async function verifyInclusion(index, size, leaf, path, root) {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const hex of path) {
    const p = hexToBytes(hex);
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(NODE, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(NODE, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesToHex(r) === root;
}

/**
 * Check a bundle of GET /v1/incidents/{id} (or /v1/evidence/proof/N): the entry's own bytes
 * hash to the leaf, the path leads to the root of the bundle's tree head, and that tree head
 * is the one the page fetched from /v1/evidence/sth (`head`, optional).
 * Returns {ok, reason}.
 */
export async function checkBundle(bundle, head) {
  if (!globalThis.crypto || !crypto.subtle) {
    return { ok: false, reason: "cannot check here: WebCrypto needs a secure context" };
  }
  const leaf = await leafHash(bundle.entry);
  if (bytesToHex(leaf) !== bundle.leaf_hash) {
    return { ok: false, reason: "the entry does not hash to the stated leaf" };
  }
  const sth = bundle.sth;
  if (sth.tree_size !== bundle.tree_size) {
    return { ok: false, reason: "the proof is for another tree size than its tree head" };
  }
  const ok = await verifyInclusion(
    bundle.entry_index,
    bundle.tree_size,
    leaf,
    bundle.inclusion_path,
    sth.root_hash,
  );
  if (!ok) return { ok: false, reason: "the path does not lead to the tree head's root" };
  const what = `proof of ${entryName(bundle.entry_index, bundle.entry)} checks against ${headName(sth)}`;
  if (head && head.tree_size === sth.tree_size && head.root_hash !== sth.root_hash) {
    return { ok: false, reason: `two different signed tree heads of size ${sth.tree_size}: the log forked` };
  }
  if (head && head.tree_size > sth.tree_size) {
    return { ok: true, reason: `${what}; a newer head, of size ${head.tree_size}, exists` };
  }
  if (head && head.tree_size < sth.tree_size) {
    return { ok: true, reason: `${what}, newer than the head of size ${head.tree_size} this page first saw` };
  }
  return { ok: true, reason: what };
}

/** A log entry's name, as the CLI and the API give it (truceline.evidence.entry_name). */
export function entryName(index, entryText) {
  let e = {};
  try {
    e = JSON.parse(entryText) || {};
  } catch {
    e = {};
  }
  let what = String(e.kind);
  if (e.kind === "observation") what = `observation ${e.observation?.source}:${e.observation?.id}`;
  else if (e.kind === "incident_review")
    what = `review of incident ${e.incident}: ${e.status}${e.published ? ", published" : ""}`;
  else if (e.kind === "case_event") what = `case ${e.case}, event ${e.seq ?? String(e.event_id ?? "").slice(0, 8)}: ${e.event?.kind}`;
  else if (e.kind === "run") what = `analysis run ${e.run}`;
  return `entry ${index} (${what})`;
}

/** A signed tree head's name, as the CLI and the API give it (truceline.evidence.head_name). */
export function headName(sth) {
  return `signed tree head of size ${sth.tree_size} (root ${String(sth.root_hash).slice(0, 12)}…)`;
}

function base64ToBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Check a signed tree head's Ed25519 signature in the browser. The key comes from
 * GET /v1/evidence/keys/{key_id} (`fetchKey`); the page checks that it is the key the head
 * names (its SHA-256 starts with the key id), then the signature over the head's canonical
 * form {"root_hash","timestamp","tree_size"} (RFC 8785; these values need no escaping).
 * A server could serve its own key with its own heads: the key id shown must be compared
 * with the one the mission publishes elsewhere. Returns {ok, reason}.
 */
export async function checkTreeHead(sth, fetchKey) {
  if (!globalThis.crypto || !crypto.subtle) {
    return { ok: false, reason: "cannot check here: WebCrypto needs a secure context" };
  }
  let key;
  try {
    key = await fetchKey(sth.key_id);
  } catch (e) {
    return { ok: false, reason: `the log's key ${sth.key_id} could not be fetched` };
  }
  const raw = base64ToBytes(key.public_key);
  if (bytesToHex(await sha256(raw)).slice(0, 16) !== sth.key_id) {
    return { ok: false, reason: `the key served is not key ${sth.key_id}` };
  }
  const message = new TextEncoder().encode(
    JSON.stringify({ root_hash: sth.root_hash, timestamp: sth.timestamp, tree_size: sth.tree_size }),
  );
  let ok;
  try {
    const pub = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    ok = await crypto.subtle.verify({ name: "Ed25519" }, pub, base64ToBytes(sth.signature), message);
  } catch (e) {
    return { ok: false, reason: "this browser cannot check Ed25519 signatures" };
  }
  return ok
    ? { ok: true, reason: `tree head ${sth.tree_size} is signed by log key ${sth.key_id}` }
    : { ok: false, reason: `the signature of tree head ${sth.tree_size} does not verify` };
}

// -- the mission's published key --------------------------------------------------------

const PIN = "truceline.missionKey";
let agreementKey = null; // the agreement's log_key, as this server serves it

/** The key id of a raw Ed25519 public key given as base64: the first 16 hex digits of its
 * SHA-256 (truceline.evidence.key_id). */
export async function keyIdOf(b64) {
  return bytesToHex(await sha256(base64ToBytes(b64))).slice(0, 16);
}

/** Pin the key the mission publishes (its id, 16 hex digits, or the key itself as base64),
 * in this browser: every tree head the page checks is then compared with it. Returns the
 * pinned id, or null for a value that is neither. */
export async function pinMissionKey(value) {
  const v = String(value || "").trim();
  let id = null;
  if (/^[0-9a-f]{16}$/.test(v)) id = v;
  else if (/^[A-Za-z0-9+/]{43}=$/.test(v)) id = await keyIdOf(v);
  if (id) localStorage.setItem(PIN, id);
  return id;
}

/** The agreement the page loaded (its `log_key` is the fallback when nothing is pinned). */
export async function setAgreementKey(agreement) {
  agreementKey = agreement && agreement.log_key ? await keyIdOf(agreement.log_key) : null;
}

/** Whether a tree head's key is the mission's: {ok, reason} against the pinned key, else
 * the agreement's (which this server serves, so the page says so), else null (nothing to
 * compare with). */
export function againstMission(keyId) {
  const pinned = localStorage.getItem(PIN);
  if (pinned) {
    return pinned === keyId
      ? { ok: true, reason: `the key you pinned as the mission's (${pinned})` }
      : { ok: false, reason: `NOT the key you pinned as the mission's (${pinned})` };
  }
  if (agreementKey) {
    return agreementKey === keyId
      ? { ok: true, reason: "the key the agreement names (as this server serves it: pin the mission's published key with ?key=ID)" }
      : { ok: false, reason: `NOT the key the agreement names (${agreementKey})` };
  }
  return null;
}
