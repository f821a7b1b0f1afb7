// The incident dossier: what happened, where (with uncertainty), who fired and how that
// probability was computed, which clause, every supporting observation the caller may see
// with its inclusion proof checked in the browser, and the incident's cases.

import { api } from "./api.js";
import { append, clear, definitions, el, fmtPoint, fmtTime, pct } from "./dom.js";
import { againstMission, checkBundle, checkTreeHead } from "./proof.js";
import { UNDETERMINED } from "./map.js";

function axes(cov) {
  if (!cov || cov.length !== 3) return null;
  const [xx, xy, yy] = cov;
  const a = (xx + yy) / 2;
  const b = Math.sqrt(((xx - yy) / 2) ** 2 + xy ** 2);
  const k = Math.sqrt(5.991);
  return [k * Math.sqrt(Math.max(a + b, 0)), k * Math.sqrt(Math.max(a - b, 0))];
}

function where(point, sigma, cov, crlb) {
  if (!point) return null;
  const parts = [fmtPoint(point)];
  if (sigma) parts.push(`± ${sigma.toFixed(1)} m (1 σ)`);
  const ax = axes(cov);
  if (ax) parts.push(`95 % ellipse ${ax[0].toFixed(0)} × ${ax[1].toFixed(0)} m`);
  if (crlb) parts.push(`physical limit (Cramér-Rao) ${crlb.toFixed(1)} m`);
  if (sigma && crlb && sigma > 1.05 * crlb) {
    // what the uncertainty is made of: the timing noise (the physical limit) and, in
    // quadrature, the rest (the wind, clocks and surveys the network estimated, a salvo's
    // spread, a fit worse than its noise)
    const rest = Math.sqrt(sigma * sigma - crlb * crlb);
    parts.push(
      `of the ${sigma.toFixed(1)} m, ${crlb.toFixed(1)} m is the sensors' timing noise and ` +
        `${rest.toFixed(1)} m (in quadrature) what the network estimated rather than knew: ` +
        "the wind, its clocks and surveys, a salvo's spread, a fit worse than its noise",
    );
  }
  return parts.join(" · ");
}

function explain(p, agreement) {
  const names = Object.fromEntries((agreement?.parties || []).map((x) => [x.id, x.name]));
  const probs = Object.entries(p.attribution || {});
  if (!probs.length) {
    return (
      "No attribution: only the impact is known, and where a shell landed does not say " +
      "where it came from. " +
      (p.attribution_basis ? `(${p.attribution_basis})` : "")
    );
  }
  const sigma = p.disclosure
    ? "its own uncertainty (not shown here: the public sees a rounded location)"
    : p.origin_sigma_m
      ? `±${p.origin_sigma_m.toFixed(0)} m`
      : "its uncertainty";
  const shares = probs.map(([k, v]) => `${pct(v)} in ${names[k] || k}'s area`).join(", ");
  const rest = 1 - probs.reduce((s, [, v]) => s + v, 0);
  // the basis names what multiplies the shares: P(real) and P(a launch), where they apply
  const factors = /, times (.*?)(;|$)/.exec(p.attribution_basis || "");
  // the public is not shown the basis, only whether it multiplied the shares
  const folded = factors || p.attribution_multiplied === true;
  const band = /and the line's \((± [^)]*)\)/.exec(p.attribution_basis || "");
  const verdict = p.attributed_to
    ? `That reaches the 95 % threshold, so the incident is attributed to ${names[p.attributed_to] || p.attributed_to}.`
    : "No party reaches the 95 % threshold, so the incident is published as undetermined, with these probabilities.";
  return (
    `The question is narrow: in whose control area does the firing position lie? The origin ` +
    `is known to ${sigma}` +
    (band ? `, and the line of contact to ${band[1]}` : "") +
    `, so Truceline placed 1,024 fixed points inside its uncertainty ellipse ` +
    `(spread as a normal distribution, the same points for every incident) and counted ` +
    `where they fall` +
    (folded
      ? `, then multiplied each share by the chance that the firing happened at all and that ` +
        `the point located is where a round was fired, not where one landed` +
        (factors ? ` (${factors[1]})` : "")
      : "") +
    `: ${shares}` +
    (rest > 0.005
      ? `, ${pct(rest)} undetermined (${folded ? "not a firing from this point, or " : ""}outside every control area)`
      : "") +
    `. ${verdict}` +
    (/four arrivals/.test(p.attribution_basis || "")
      ? " The origin rests on four arrivals only: the fit cannot be tested, and one wrong " +
        "pick would go unnoticed."
      : "") +
    ` This says where the firing position was, not who gave the order (docs/methods.md §3).`
  );
}

function attributionBars(p, colours) {
  const probs = Object.entries(p.attribution || {});
  if (!probs.length) return null;
  return el(
    "ul",
    { class: "bars", "aria-label": "Attribution probabilities" },
    probs.map(([party, v]) =>
      el(
        "li",
        {},
        el("span", { class: "bar-label" }, `${party}: ${pct(v)}`),
        el(
          "span",
          { class: "bar", "aria-hidden": "true" },
          el("span", {
            class: "bar-fill",
            style: `width:${(100 * v).toFixed(1)}%;background:${colours[party] || UNDETERMINED}`,
          }),
        ),
      ),
    ),
  );
}

function evidenceTable(evidence, head) {
  const rows = evidence.map((item) => {
    const o = item.observation || {};
    const status = el("span", { class: "proof pending" }, item.proof ? "checking…" : "no proof");
    if (item.proof) {
      checkBundle(item.proof, head).then(({ ok, reason }) => {
        status.textContent = `${ok ? "✓" : "✗"} ${reason}`;
        status.className = `proof ${ok ? "ok" : "bad"}`;
      });
    }
    return el(
      "tr",
      {},
      el("td", {}, o.source || item.ref.split(":")[0]),
      el("td", {}, o.type || "—"),
      el("td", { class: "nowrap", title: fmtTime(o.time) }, (o.time || "—").slice(11, 22)),
      el("td", {}, o.position ? fmtPoint(o.position) : "—"),
      el("td", {}, item.signed ? "signed" : "unsigned"),
      el("td", {}, item.proof ? `#${item.proof.entry_index}` : "—", " ", status),
    );
  });
  const signed = headCheck((evidence.find((item) => item.proof) || {}).proof?.sth);
  const table = el(
    "table",
    { class: "evidence" },
    el("caption", {}, `${evidence.length} supporting observations, each an entry of the evidence log`),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Source", "Type", "Time (UTC)", "Position", "Signature", "Log entry and inclusion proof"].map(
          (h) => el("th", { scope: "col" }, h),
        ),
      ),
    ),
    el("tbody", {}, rows),
  );
  return el("div", {}, signed, table);
}

function headCheck(sth) {
  const signed = el(
    "p",
    { class: "head-check pending", id: "tree-head-check" },
    sth ? "checking the tree head's signature…" : "",
  );
  if (sth) {
    checkTreeHead(sth, (kid) => api(`/v1/evidence/keys/${kid}`)).then(({ ok, reason }) => {
      // a server could sign its own heads with its own key: compare with the mission's
      const mission = ok ? againstMission(sth.key_id) : null;
      const good = ok && (!mission || mission.ok);
      const tail = !ok ? "" : mission ? `: ${mission.reason}` : " (compare the key id with the one the mission publishes, or pin it with ?key=ID)";
      signed.textContent = `${good ? "✓" : "✗"} ${reason}${tail}`;
      signed.className = `head-check ${good ? "ok" : "bad"}`;
    });
  }
  return signed;
}

const SUPPORTS = { run: "the analysis run that found it", review: "the analysts' review", case_event: "a case event" };

/** The log entries the incident rests on besides its observations (the run, the review,
 * the case events this role may see), each with a link to its inclusion proof and the
 * proof checked here. */
function entriesTable(entries, head, withHeadCheck) {
  const rows = entries.map((item) => {
    const status = el("span", { class: "entry-proof pending" }, "checking…");
    checkBundle(item.proof, head).then(({ ok, reason }) => {
      status.textContent = `${ok ? "✓" : "✗"} ${reason}`;
      status.className = `entry-proof ${ok ? "ok" : "bad"}`;
    });
    return el(
      "tr",
      { dataset: { entry: String(item.index) } },
      el("td", {}, SUPPORTS[item.supports] || item.supports),
      el("td", {}, el("a", { href: item.proof_url, class: "proof-link" }, item.name)),
      el("td", {}, status),
    );
  });
  const table = el(
    "table",
    { class: "entries" },
    el("caption", {}, `${entries.length} further entries of the evidence log this incident rests on`),
    el(
      "thead",
      {},
      el("tr", {}, ["What", "Log entry (its inclusion proof)", "Checked in this browser"].map((h) => el("th", { scope: "col" }, h))),
    ),
    el("tbody", {}, rows),
  );
  return el("div", {}, withHeadCheck ? headCheck(entries[0]?.proof?.sth) : null, table);
}

export function caseHistory(events) {
  return el(
    "ol",
    { class: "history" },
    events.map((e) => {
      let what = e.kind;
      if (e.kind === "opened") what = `opened by ${e.by}: accuses ${e.accused}, replies until ${fmtTime(e.reply_by)}`;
      if (e.kind === "reply") what = `reply from party ${e.party} (${e.by}): “${e.text}”`;
      if (e.kind === "ruling")
        what = `${e.position === "dissent" ? "dissent" : "signature"} by ${e.by} (${e.member_state}): ${e.decision}${e.responsible ? `, ${e.responsible} responsible` : ""}${e.clause ? `, ${e.clause}` : ""}${e.reason ? ` — ${e.reason}` : ""}`;
      if (e.kind === "reopened") what = `reopened by ${e.by}: ${e.reason}`;
      if (e.kind === "replies_closed") what = `reply window closed early by ${e.by}: every party had replied`;
      return el("li", {}, el("time", {}, fmtTime(e.time)), " ", what);
    }),
  );
}

function actions(p, ctx, refresh) {
  // offered by role for convenience; the API decides (and its refusals are shown)
  const me = ctx.me;
  const forms = [];
  if (me.role === "analyst") {
    const status = el(
      "select",
      { id: "review-status", name: "status" },
      ["automatic", "corroborated", "verified", "disputed", "rejected"].map((v) =>
        el("option", { value: v, selected: v === p.status }, v),
      ),
    );
    const published = el("input", { id: "review-published", type: "checkbox", checked: !!p.published });
    forms.push(
      el(
        "form",
        {
          class: "action",
          "aria-label": "Review",
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              await api(`/v1/incidents/${encodeURIComponent(p.id)}`, {
                method: "PATCH",
                body: { status: status.value, published: published.checked },
              });
              ctx.announce(`Incident ${p.id}: ${status.value}, ${published.checked ? "published" : "not published"}.`);
            } catch (err) {
              ctx.announce(`The review was refused (${err.status}): ${err.message}`, true);
            }
            refresh();
          },
        },
        el("h4", {}, "Review"),
        el("label", { for: "review-status" }, "Status"),
        status,
        el("label", { for: "review-published" }, published, " published (the public sees it when verified, after the delay)"),
        el("button", { type: "submit" }, "Save review"),
      ),
    );
  }
  if (me.role === "analyst" || me.role === "commissioner") {
    const parties = ctx.agreement?.parties || [];
    const accused = el(
      "select",
      { id: "case-accused", name: "accused" },
      parties.map((x) => el("option", { value: x.id, selected: x.id === p.attributed_to }, `${x.id} — ${x.name}`)),
    );
    const days = el("input", { id: "case-days", type: "number", min: "0.01", max: "90", step: "any", value: "7" });
    const summary = el("textarea", { id: "case-summary-text", rows: 2 });
    forms.push(
      el(
        "form",
        {
          class: "action",
          "aria-label": "Open a case",
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const res = await api("/v1/cases", {
                method: "POST",
                body: { incident: p.id, accused: accused.value, reply_days: Number(days.value), summary: summary.value },
              });
              ctx.announce(`Case ${res.id} opened on ${p.id}; the parties may reply until ${fmtTime(res.state.reply_by)}.`);
            } catch (err) {
              ctx.announce(`The case was refused (${err.status}): ${err.message}`, true);
            }
            refresh();
          },
        },
        el("h4", {}, "Open a case for the Special Commission"),
        el("label", { for: "case-accused" }, "Accused party"),
        accused,
        el("label", { for: "case-days" }, "Days the parties may reply"),
        days,
        el("label", { for: "case-summary-text" }, "Summary"),
        summary,
        el("button", { type: "submit" }, "Open case"),
      ),
    );
  }
  return forms.length ? el("section", { class: "actions", "aria-label": "Actions" }, el("h3", {}, "Actions"), forms) : null;
}

const AIR_TYPES = {
  fpv: "FPV drone",
  loitering_munition: "loitering munition",
  one_way_drone: "one-way long-range drone",
  reconnaissance_drone: "reconnaissance drone",
  aircraft: "aircraft",
};

/** Whether a strike was found at a flight's end (its impact then rests on the strike's own
 * evidence: an acoustic or thermal source beside the drone sources). A party's view of its
 * own unpublished incident has no sources: there, P(strike) of at least even odds says it. */
function struck(p) {
  if (!p.sources) return (p.flight?.p_strike ?? 0) >= 0.5;
  return Object.keys(p.sources).some((k) => k === "acoustic" || k === "thermal");
}

/** A tracked flight: what it was (as probabilities) and what that rests on, where and when
 * it crossed the line, and whether it ended in a strike. */
function flightSection(p) {
  const f = p.flight;
  if (!f) return null;
  const types = Object.entries(f.types || {}).sort((a, b) => b[1] - a[1]);
  const times = f.times || [];
  const flew = [`median ground speed ${f.speed_ms} m/s`];
  if (f.alt_m !== null && f.alt_m !== undefined) flew.push(`altitude ${f.alt_m} m (radar)`);
  if (f.f0_hz) flew.push(`engine tone ${f.f0_hz} Hz (${f.f0_hz > 200 ? "an electric motor's" : "a combustion engine's"})`);
  if (f.turns !== null && f.turns !== undefined) flew.push(`turned through ${f.turns} circles`);
  if (f.first_seen_behind_m !== null && f.first_seen_behind_m !== undefined) {
    flew.push(`first seen ${(f.first_seen_behind_m / 1000).toFixed(1)} km from the line`);
  }
  const crossed = f.crossing_time
    ? `at ${fmtTime(f.crossing_time)}, ${fmtPoint(p.crossing)} ± ${f.crossing_sigma_m} m (1 σ); ` +
      `P(it flew over the line) ${pct(f.p_crossed)}`
    : `no crossing of the line on its track; P(it flew over the line) ${pct(f.p_crossed)}`;
  return [
    el("h3", {}, "Flight"),
    definitions([
      ["Tracked", times.length ? `${fmtTime(times[0])} – ${fmtTime(times[times.length - 1])}` : null],
      ["What it was", types.map(([k, v]) => `${AIR_TYPES[k] || k} ${pct(v)}`).join(", ") || "not typed"],
      ["From", flew.join(" · ")],
      ["Crossed the line", crossed],
      ["Ended in a strike", pct(f.p_strike)],
    ]),
    el(
      "p",
      { class: "explain" },
      "The type is a probability by Bayes' rule over five types, from how the object flew " +
        "(speed, altitude, engine tone, circling, how far behind the line it was first seen) " +
        "and whether a strike was found at its track's end: no single figure decides it.",
    ),
  ];
}

export async function renderDossier(body, id, ctx) {
  clear(body);
  body.append(el("p", { role: "status" }, "Loading…"));
  let inc;
  try {
    inc = await api(`/v1/incidents/${encodeURIComponent(id)}`);
  } catch (err) {
    clear(body).append(el("p", { class: "error", role: "alert" }, `Cannot open ${id}: ${err.message}`));
    return;
  }
  const p = inc.properties;
  const clauses = Object.fromEntries((ctx.agreement?.clauses || []).map((c) => [c.id, c]));
  const sources = p.sources ? Object.entries(p.sources).map(([k, v]) => `${v} ${k}`).join(", ") : null;
  clear(body);
  // what the reader does with the incident comes before the long evidence table
  const acts = actions(p, ctx, () => renderDossier(body, id, ctx));
  append(body, [
    el("h2", { id: "dossier-title", tabindex: "-1" }, `Incident ${p.id}`),
    p.disclosure ? el("p", { class: "note" }, `Public view: ${p.disclosure}.`) : null,
    definitions([
      ["Kind", p.kind],
      ["Time", `${fmtTime(p.time_start)} – ${fmtTime(p.time_end)}`],
      ["Weapon", p.weapon_basis ? `${p.weapon} (${p.weapon_basis})` : p.weapon],
      ["Confidence", `${pct(p.confidence ?? 0)}${sources ? ` from ${sources}` : ""}`],
      ["Status", `${p.status}${p.published ? ", published" : ", not published"}`],
    ]),
    el("h3", {}, "Where"),
    definitions([
      ["Origin", where(p.origin, p.origin_sigma_m, p.origin_cov_m2, p.origin_crlb_m) || "not located"],
      [
        // a flight's point is its strike where one was found at its end, else where it was last tracked
        p.flight && !struck(p) ? "Last tracked" : "Impact",
        where(p.impact, p.impact_sigma_m, p.impact_cov_m2, p.impact_crlb_m) || "not located",
      ],
    ]),
    flightSection(p),
    el("h3", {}, p.flight ? "Where it was launched from" : "Where it was fired from"),
    el(
      "p",
      {},
      p.attributed_to
        ? `The ${p.flight ? "launch area" : "firing position"} lies in ${p.attributed_to}'s area with probability ` +
            `${pct((p.attribution || {})[p.attributed_to] || 0)}.`
        : `Undetermined: no party's area holds the ${p.flight ? "launch area" : "firing position"} with 95 % probability.`,
    ),
    attributionBars(p, ctx.colours),
    el("p", { class: "explain" }, explain(p, ctx.agreement)),
    el("h3", {}, "Clause"),
    p.violations && p.violations.length
      ? el(
          "ul",
          {},
          p.violations.map((c) => el("li", {}, el("strong", {}, c), ` — ${clauses[c]?.text || ""}`)),
        )
      : el("p", {}, "No clause broken."),
    acts,
    el("h3", {}, "Evidence"),
    inc.evidence.length
      ? evidenceTable(inc.evidence, ctx.head)
      : el(
          "p",
          { class: "note" },
          ctx.me.staff || ctx.me.party
            ? "No supporting observation is visible to this role."
            : "The public view shows no raw observations: the incident is published with a rounded location and after a delay. The evidence log's entries below, the tree head and the published report are the public record.",
        ),
    (inc.log_entries || []).length
      ? entriesTable(inc.log_entries, ctx.head, !inc.evidence.some((item) => item.proof))
      : null,
  ]);
  const section = el("section", { "aria-labelledby": "dossier-cases" }, el("h3", { id: "dossier-cases" }, "Cases"));
  body.append(section);
  try {
    const cases = (await api("/v1/cases")).filter((c) => c.state.incident === p.id);
    if (!cases.length) section.append(el("p", {}, "No case on this incident (visible to this role)."));
    for (const c of cases) {
      const full = await api(`/v1/cases/${c.id}`);
      section.append(
        el("h4", {}, `Case ${c.id}: ${c.state.status.replace("_", " ")}`),
        full.events.length
          ? caseHistory(full.events)
          : el("p", {}, c.state.ruling ? `Ruling in force: ${c.state.ruling.decision}` : "—"),
      );
    }
  } catch (err) {
    section.append(el("p", { class: "error" }, `Cases: ${err.message}`));
  }
}
