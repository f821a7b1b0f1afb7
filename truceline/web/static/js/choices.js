// A filter of several choices: a <details> whose summary says what is chosen ("Clause: any",
// "Clause: C1, C2") and whose body is a list of checkboxes with each option's full text
// (a clause's text wraps; it is never cut as in a drop-down). Nothing ticked means any.

import { clear, el } from "./dom.js";

export class MultiChoice {
  /** `root`: a <details> with a <summary> and a <div class="choices">; `label`: its name. */
  constructor(root, label, onChange) {
    this.root = root;
    this.label = label;
    this.onChange = onChange;
    this.box = root.querySelector(".choices");
    this.summary = root.querySelector("summary");
    this.values = [];
    this.chosen = new Set();
    this.box.addEventListener("change", (e) => {
      if (e.target.type !== "checkbox") return;
      if (e.target.checked) this.chosen.add(e.target.value);
      else this.chosen.delete(e.target.value);
      this.describe();
      this.onChange();
    });
  }

  /** The options (values in order, with optional labels); choices no longer offered go. */
  setOptions(values, labels = {}) {
    this.values = values;
    this.chosen = new Set(values.filter((v) => this.chosen.has(v)));
    const name = this.root.id;
    clear(this.box).append(
      ...values.map((v, k) =>
        el(
          "label",
          { class: "choice", for: `${name}-${k}` },
          el("input", { type: "checkbox", id: `${name}-${k}`, value: v, checked: this.chosen.has(v) }),
          el("span", {}, labels[v] || v),
        ),
      ),
    );
    this.describe();
  }

  /** Choose exactly `values` (those offered), without calling back. */
  set(values) {
    const offered = new Set(this.values);
    this.chosen = new Set([...values].filter((v) => offered.has(v)));
    for (const box of this.box.querySelectorAll("input[type=checkbox]")) box.checked = this.chosen.has(box.value);
    this.describe();
  }

  /** Tick or untick one value and call back (a chart's bar toggles its sector). */
  toggle(value) {
    const next = new Set(this.chosen);
    if (next.has(value)) next.delete(value);
    else next.add(value);
    this.set(next);
    this.onChange();
  }

  describe() {
    const chosen = this.values.filter((v) => this.chosen.has(v));
    const what = chosen.length ? chosen.join(", ") : "any";
    this.summary.textContent = `${this.label}: ${what}`;
    this.root.dataset.chosen = chosen.join(",");
  }
}
