// The Special Commission's queue: the cases the caller may see (GET /v1/cases), open ones
// first with their reply deadlines, the parties' replies, proposed rulings and their
// signatures (staff only: the API withholds drafts from everyone else), the ruling in force
// with its dissents. A party may file a reply, a commissioner may sign or dissent. The forms
// follow the caller's role for convenience only; the API decides and its refusals are shown.

import { api, download } from "./api.js";
import { caseHistory } from "./dossier.js";
import { append, clear, definitions, el, fmtTime } from "./dom.js";

const ORDER = { awaiting_reply: 0, under_review: 1, ruled: 2 };

/** The files a reply may carry, by suffix (the API's MEDIA_TYPES). */
const BY_SUFFIX = { pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", txt: "text/plain", csv: "text/csv", json: "application/json", geojson: "application/geo+json" };
const ATTACHABLE = Object.keys(BY_SUFFIX).map((s) => `.${s}`).join(",");

/** A chosen file as the API takes it: its name, its type (from its suffix where the
 * browser gives none) and its bytes as base64. */
function asAttachment(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      const suffix = file.name.split(".").pop().toLowerCase();
      resolve({ name: file.name, media_type: BY_SUFFIX[suffix] || file.type || "application/octet-stream", data: url.slice(url.indexOf(",") + 1) });
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function fileSize(n) {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** How the reply window was closed early: at once (every party had replied) or by the
 * commission's decision (its member states and their reasons). */
function closedEarly(c) {
  const when = fmtTime(c.time);
  if (!c.by_decision) return `closed early by ${c.by} at ${when}: every party had replied`;
  return `closed early at ${when} by decision of the commission (${(c.signed_by_states || []).join(", ")}): ${(c.reasons || []).join(" / ")}`;
}

/** The commission is moving to close the reply window before every party replied: each
 * signature so far, with its reason (shown to the parties too: they may still reply). */
function closingNotice(s, me) {
  const states = [...new Set(s.close_signatures.map((c) => c.member_state))];
  const party = me.party && [s.accused, s.filed_by].includes(me.party);
  return el(
    "div",
    { class: "closing-notice", role: "note" },
    el("p", {}, `The commission is moving to close the reply window early: commissioners of ${states.join(", ")} have signed; it closes when ${s.quorum} member states have signed.${party ? " You may reply until then." : ""}`),
    el("ul", { class: "close-signatures" }, s.close_signatures.map((c) => el("li", {}, el("strong", {}, c.member_state), ` ${c.by} (${fmtTime(c.time)}): ${c.reason}`))),
  );
}

function deadline(state) {
  if (!state.reply_by) return null;
  const ms = Date.parse(state.reply_by) - Date.now();
  if (ms <= 0) return `${fmtTime(state.reply_by)} (closed)`;
  const h = ms / 3.6e6;
  const left = h >= 48 ? `${(h / 24).toFixed(1)} days left` : h >= 1 ? `${h.toFixed(1)} h left` : `${Math.ceil(ms / 60000)} min left`;
  return `${fmtTime(state.reply_by)} (${left})`;
}

function rulingText(r) {
  return `${r.decision.replace("_", " ")}${r.responsible ? `; responsible: ${r.responsible}` : ""}${r.clause ? `; clause ${r.clause}` : ""}${r.remedy ? `; remedy: ${r.remedy}` : ""}`;
}

function signatures(r) {
  const s = (r.signatures || []).map((x) => `${x.by} (${x.member_state})`).join(", ") || "none";
  return `signed by ${s}`;
}

function dissents(r) {
  return (r.dissents || []).map((d) => el("li", {}, `Dissent by ${d.by} (${d.member_state}): ${d.reason || "no reason given"}`));
}

export class CaseQueue {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {me, agreement, openIncident(id), announce(text)}
  }

  async load() {
    clear(this.root).append(el("p", { role: "status" }, "Loading cases…"));
    let cases;
    try {
      cases = await api("/v1/cases");
    } catch (err) {
      clear(this.root).append(el("p", { class: "error", role: "alert" }, `Cases: ${err.message}`));
      return;
    }
    cases.sort(
      (a, b) =>
        (ORDER[a.state.status] ?? 9) - (ORDER[b.state.status] ?? 9) ||
        String(a.state.reply_by || "").localeCompare(String(b.state.reply_by || "")),
    );
    const open = cases.filter((c) => c.state.status !== "ruled").length;
    clear(this.root).append(
      el(
        "p",
        { class: "summary", id: "case-summary" },
        `${cases.length} ${cases.length === 1 ? "case" : "cases"} visible to ${this.ctx.me.role}: ${open} open, ${cases.length - open} ruled.`,
      ),
    );
    if (!cases.length) {
      this.root.append(el("p", {}, "No case is visible to this role."));
    }
    for (const c of cases) this.root.append(await this.card(c));
  }

  async card(c) {
    const s = c.state;
    const me = this.ctx.me;
    const card = el("article", { class: `case ${s.status}`, "aria-labelledby": `case-${c.id}-h`, dataset: { case: c.id, status: s.status } });
    card.append(
      el("h3", { id: `case-${c.id}-h` }, `Case ${c.id}`, " ", el("span", { class: `badge ${s.status}` }, s.status.replace("_", " "))),
      definitions([
        ["Incident", s.incident ? el("button", { type: "button", class: "link", onclick: () => this.ctx.openIncident(s.incident) }, s.incident) : null],
        ["Allegation", s.allegation],
        ["Accused", s.accused],
        ["Filed by", s.filed_by],
        ["Opened", fmtTime(s.opened)],
        ["Replies until", s.status === "ruled" ? null : s.replies_closed_early ? closedEarly(s.replies_closed_early) : deadline(s)],
        ["Quorum", s.quorum ? `${s.quorum} member states` : null],
      ]),
    );
    if (s.reply_open && (s.close_signatures || []).length) card.append(closingNotice(s, me));
    if (c.accusation) card.append(this.alleged(c.accusation));
    if (s.replies && s.replies.length) {
      card.append(
        el("h4", {}, "Replies"),
        el("ul", { class: "replies" }, s.replies.map((r) => this.replyItem(c.id, r))),
      );
    }
    if (s.ruling) {
      // (append skips a missing dissent list: Element.append would write "null")
      append(card, [
        el("h4", {}, "Ruling in force"),
        el("p", { class: "ruling" }, rulingText(s.ruling), ` — in force, ${signatures(s.ruling)}; member states ${(s.ruling.signed_by_states || []).join(", ")}`),
        s.ruling.dissents && s.ruling.dissents.length ? el("ul", {}, dissents(s.ruling)) : null,
      ]);
    }
    const drafts = (s.proposals || []).filter((r) => !s.ruling || r.id !== s.ruling.id);
    if (drafts.length) {
      card.append(
        el("h4", {}, "Draft rulings (commission only)"),
        el(
          "ul",
          { class: "proposals" },
          drafts.map((r) =>
            el(
              "li",
              {},
              `${rulingText(r)} — ${signatures(r)}`,
              dissents(r).length ? el("ul", {}, dissents(r)) : null,
              me.role === "commissioner" && s.status === "under_review"
                ? el("button", { type: "button", onclick: () => this.rule(c.id, { ...pick(r), position: "sign", reason: "" }) }, "Sign this ruling")
                : null,
            ),
          ),
        ),
      );
    }
    if (s.earlier_rulings && s.earlier_rulings.length) {
      card.append(
        el("h4", {}, "Earlier rulings"),
        el("ul", {}, s.earlier_rulings.map((r) => el("li", {}, `${rulingText(r)} — superseded ${fmtTime(r.superseded)}`))),
      );
    }
    if (me.staff || me.party) {
      try {
        const full = await api(`/v1/cases/${c.id}`);
        if (full.events.length) {
          const det = el("details", {}, el("summary", {}, `History (${full.events.length} ${full.events.length === 1 ? "event" : "events"})`), caseHistory(full.events));
          card.append(det);
        }
      } catch {
        /* the list already showed what this role may see */
      }
    }
    if (me.party && s.reply_open && [s.accused, s.filed_by].includes(me.party)) card.append(this.replyForm(c.id));
    if (me.role === "commissioner" && s.reply_open) card.append(this.closeForm(c.id, s));
    if (me.role === "commissioner" && s.status === "under_review") card.append(this.rulingForm(c.id, s, c.accusation));
    if (me.role === "commissioner" && s.status === "ruled") card.append(this.reopenForm(c.id));
    return card;
  }

  /** What the case alleges: the clauses with their texts, when, where, with what, the
   * case's summary and how much evidence this role may see. */
  alleged(a) {
    const clauses = a.clauses.length
      ? el("ul", { class: "clauses" }, a.clauses.map((c) => el("li", {}, el("strong", {}, c.id), c.text ? ` — ${c.text}` : "")))
      : "no clause named by the incident";
    const when = a.time_start ? `${fmtTime(a.time_start)}${a.time_end && a.time_end !== a.time_start ? ` – ${fmtTime(a.time_end)}` : ""}` : null;
    return el(
      "section",
      { class: "alleged", "aria-label": "What is alleged" },
      el("h4", {}, "What is alleged"),
      definitions([
        ["Clause", clauses],
        ["Time", when],
        ["Place", a.place],
        ["Weapon", a.weapon],
        ["Summary", a.summary || "none given"],
        ["Evidence", a.evidence_count === null || a.evidence_count === undefined ? null : `${a.evidence_count} supporting ${a.evidence_count === 1 ? "observation" : "observations"} visible to this role`],
      ]),
    );
  }

  /** Closing the reply window early: at once once every party has replied; before, a
   * signature with a reason, the window closing when the quorum's member states signed. */
  closeForm(id, s) {
    const waiting = [s.accused, s.filed_by].filter((p) => p && !(s.replies || []).some((r) => r.party === p));
    const signed = s.close_signatures || [];
    const mine = signed.some((c) => c.by === this.ctx.me.name);
    const rid = `close-${id}-reason`;
    const reason = el("textarea", { id: rid, name: "reason", rows: 2, required: true });
    const form = el(
      "form",
      {
        class: "action close-form",
        "aria-label": `Close the reply window of case ${id}`,
        onsubmit: (e) => (e.preventDefault(), this.closeReplies(id, s.all_replied ? null : reason.value)),
      },
      el("h4", {}, "Reply window"),
      el(
        "p",
        {},
        s.all_replied
          ? "Every party has replied: the commission may close the window now and rule."
          : `Waiting for a reply from ${[...new Set(waiting)].join(" and ") || "the parties"}. Closing before then is a decision of the commission: it takes the signatures of commissioners of ${s.quorum} member states, each with a reason the parties are shown.`,
      ),
    );
    if (!s.all_replied && !mine) form.append(el("div", { class: "field" }, el("label", { for: rid }, "Reason for closing early"), reason));
    form.append(
      el(
        "button",
        { type: "submit", disabled: !s.all_replied && mine },
        s.all_replied ? "Close the reply window" : mine ? "You have signed the closing" : "Sign the closing of the window",
      ),
    );
    return form;
  }

  async closeReplies(id, reason) {
    try {
      const res = await api(`/v1/cases/${id}/close-replies`, { method: "POST", body: reason === null ? undefined : { reason } });
      const open = res && res.state && res.state.reply_open;
      this.ctx.announce(open ? `Case ${id}: your signature on closing the window is recorded; it closes when ${res.state.quorum} member states have signed.` : `Case ${id}: the reply window is closed; the commission may rule.`);
    } catch (err) {
      this.ctx.announce(`Closing the reply window was refused (${err.status}): ${err.message}`, true);
    }
    await this.load();
  }

  reopenForm(id) {
    const rid = `reopen-${id}-reason`;
    const did = `reopen-${id}-days`;
    const reason = el("textarea", { id: rid, name: "reason", rows: 2, required: true });
    const days = el("input", { id: did, name: "reply_days", type: "number", min: 0, max: 90, step: "any", value: 7 });
    return el(
      "form",
      {
        class: "action",
        "aria-label": `Reopen case ${id}`,
        onsubmit: (e) => (e.preventDefault(), this.reopen(id, reason.value, Number(days.value))),
      },
      el("h4", {}, "Reopen (new evidence or a procedural error; the ruling stays in the history)"),
      el("div", { class: "field" }, el("label", { for: rid }, "Reason"), reason),
      el("div", { class: "field" }, el("label", { for: did }, "Days for replies"), days),
      el("button", { type: "submit" }, "Reopen case"),
    );
  }

  async reopen(id, reason, replyDays) {
    try {
      const res = await api(`/v1/cases/${id}/reopen`, {
        method: "POST",
        body: { reason, reply_days: replyDays },
      });
      // reopening takes the quorum of member states a ruling takes
      if (res.state.status === "ruled") {
        this.ctx.announce(
          `Case ${id}: your signature on reopening is recorded; it reopens when commissioners of ${res.state.quorum} member states have signed it.`,
        );
      } else {
        this.ctx.announce(`Case ${id} reopened: the parties may reply again.`);
      }
    } catch (err) {
      this.ctx.announce(`Reopening was refused (${err.status}): ${err.message}`, true);
    }
    await this.load();
  }

  /** A reply, with a download button for each file attached to it. */
  replyItem(id, r) {
    const item = el("li", {}, el("strong", {}, `Party ${r.party}`), ` (${r.by}, ${fmtTime(r.time)}): `, r.text);
    if (r.attachments && r.attachments.length) {
      item.append(
        el(
          "ul",
          { class: "attachments", "aria-label": "Attached files" },
          r.attachments.map((a) =>
            el(
              "li",
              {},
              el(
                "button",
                { type: "button", class: "link", title: `SHA-256 ${a.sha256}`, onclick: () => this.fetchFile(id, a) },
                `${a.name} (${fileSize(a.size)})`,
              ),
            ),
          ),
        ),
      );
    }
    return item;
  }

  async fetchFile(id, a) {
    try {
      await download(`/v1/cases/${id}/attachments/${a.sha256}`, a.name);
      this.ctx.announce(`Downloaded ${a.name} (SHA-256 ${a.sha256.slice(0, 12)}…).`);
    } catch (err) {
      this.ctx.announce(`The file could not be fetched (${err.status}): ${err.message}`, true);
    }
  }

  replyForm(id) {
    const fid = `reply-${id}`;
    const text = el("textarea", { id: fid, name: "text", rows: 3, required: true });
    const files = el("input", { id: `${fid}-files`, name: "files", type: "file", multiple: true, accept: ATTACHABLE });
    return el(
      "form",
      { class: "action", onsubmit: (e) => (e.preventDefault(), this.reply(id, text.value, [...files.files])) },
      el("label", { for: fid }, `Your reply to case ${id}`),
      text,
      el("div", { class: "field" }, el("label", { for: `${fid}-files` }, "Attach files (PDF, PNG, JPEG, text, CSV, JSON, GeoJSON; up to 5)"), files),
      el("button", { type: "submit" }, "File reply"),
    );
  }

  rulingForm(id, s, accusation) {
    const parties = this.ctx.agreement?.parties || [];
    const clauses = this.ctx.agreement?.clauses || [];
    const f = (name) => `rule-${id}-${name}`;
    const field = (name, label, control) => el("div", { class: "field" }, el("label", { for: f(name) }, label), control);
    const select = (name, opts) =>
      el("select", { id: f(name), name }, opts.map(([v, t]) => el("option", { value: v }, t)));
    // the clause defaults to what the incident breaches (all of them, where several)
    const breached = (accusation?.clauses || []).map((c) => c.id);
    const both = breached.length > 1 ? [[breached.join(","), breached.join(" and ")]] : [];
    const form = el(
      "form",
      { class: "action ruling-form", "aria-label": `Sign a ruling on case ${id}` },
      el("h4", {}, "Sign a ruling"),
      field("decision", "Decision", select("decision", [["violation", "violation"], ["no_violation", "no violation"], ["undetermined", "undetermined"]])),
      field("responsible", "Responsible party", select("responsible", [["", "none"], ...parties.map((p) => [p.id, `${p.id} — ${p.name}`])])),
      field("clause", "Clause", select("clause", [...both, ...clauses.map((c) => [c.id, `${c.id} — ${c.text}`]), ["", "none"]])),
      field("remedy", "Remedy", el("textarea", { id: f("remedy"), name: "remedy", rows: 2 })),
      field("position", "Position", select("position", [["sign", "sign"], ["dissent", "dissent"]])),
      field("reason", "Reason (for a dissent)", el("input", { id: f("reason"), name: "reason", type: "text" })),
      el("button", { type: "submit" }, "Sign ruling"),
    );
    form.elements.responsible.value = s.accused || "";
    form.elements.clause.value = breached.join(",");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = form.elements;
      this.rule(id, {
        decision: v.decision.value,
        responsible: v.responsible.value || null,
        clause: v.clause.value || null,
        remedy: v.remedy.value,
        position: v.position.value,
        reason: v.reason.value,
      });
    });
    return form;
  }

  async reply(id, text, files = []) {
    try {
      const attachments = await Promise.all(files.map(asAttachment));
      await api(`/v1/cases/${id}/replies`, { method: "POST", body: { text, attachments } });
      const n = attachments.length;
      this.ctx.announce(`Reply filed on case ${id}${n ? ` with ${n} ${n === 1 ? "file" : "files"}` : ""}.`);
    } catch (err) {
      this.ctx.announce(`The reply was refused (${err.status}): ${err.message}`, true);
    }
    await this.load();
  }

  async rule(id, body) {
    try {
      const res = await api(`/v1/cases/${id}/rulings`, { method: "POST", body });
      const inForce = res.state.status === "ruled";
      this.ctx.announce(
        inForce
          ? `Case ${id}: the ruling is in force (${res.state.ruling.signed_by_states.join(", ")}).`
          : `Case ${id}: signed; the ruling takes effect when commissioners of ${res.state.quorum} member states have signed it.`,
      );
    } catch (err) {
      this.ctx.announce(`The ruling was refused (${err.status}): ${err.message}`, true);
    }
    await this.load();
  }
}

function pick(r) {
  return { decision: r.decision, responsible: r.responsible, clause: r.clause, remedy: r.remedy };
}
