// The Lifecycle page: create, edit, enable or disable and delete a bucket's rules, each saved
// only after its dry-run preview (docs/console.md, Lifecycle). Rules travel as the console's
// rule JSON; the form edits the common fields and sends every other field back as it was.
// User text (rule IDs, prefixes, keys) is only ever set as text.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const main = document.getElementById("main");
  const bucket = main.dataset.bucket;
  const api = `/-/console/api/buckets/${encodeURIComponent(bucket)}/lifecycle`;
  const CLASSES = ["IA", "Archive", "ColdArchive", "DeepColdArchive"];
  const NAMED = 200;
  const $ = (id) => document.getElementById(id);

  const editor = $("rule-editor"), form = $("rule-form"), problem = $("rule-problem");
  const fields = {
    id: $("rule-id"), prefix: $("rule-prefix"), enabled: $("rule-enabled"), tags: $("rule-tags"),
    abortOn: $("abort-on"), abortDays: $("abort-days"), expireOn: $("expire-on"), expireDays: $("expire-days"),
    at: $("preview-at"),
  };
  const moveOn = (cls) => $(`move-${cls}-on`);
  const moveDays = (cls) => $(`move-${cls}-days`);
  const saveButton = $("save-rule"), preview = $("preview");

  // What is being edited: the saved rule's full JSON (or {} for a new one) and its ID.
  let editing = null;
  let previewed = null; // the rule JSON (as text) the shown preview is of

  // --- the form --------------------------------------------------------------------------

  function open(title, rule, originalId) {
    editing = {base: rule, originalId};
    $("editor-title").textContent = title;
    fields.id.value = rule.id || "";
    fields.prefix.value = rule.prefix || "";
    fields.enabled.checked = rule.enabled !== false;
    const abort = rule.abort_multipart_upload, expiration = rule.expiration;
    fields.abortOn.checked = Boolean(abort);
    fields.abortDays.value = abort && abort.days ? abort.days : "";
    dateHint($("abort-date"), abort && !abort.days && abort.created_before
      ? `kept: uploads last updated before ${abort.created_before}` : "");
    fields.expireOn.checked = Boolean(expiration);
    fields.expireDays.value = expiration && expiration.days ? expiration.days : "";
    dateHint($("expire-date"), expiration && !expiration.days ? expirationKept(expiration) : "");
    for (const cls of CLASSES) {
      const t = (rule.transitions || []).find((x) => x.storage_class === cls);
      moveOn(cls).checked = Boolean(t);
      moveDays(cls).value = t && t.days ? t.days : "";
      dateHint(document.querySelector(`.move-date[data-class="${cls}"]`),
               t && !t.days && t.created_before ? `kept: last modified before ${t.created_before}` : "");
    }
    fields.tags.value = (rule.tags || []).map((t) => `${t.key}=${t.value}`).join("\n");
    const kept = keptFields(rule);
    $("kept-fields").textContent = kept.length ? `Also kept as saved: ${kept.join("; ")}.` : "";
    $("kept-fields").hidden = kept.length === 0;
    clearProblem();
    preview.hidden = true;
    invalidate();
    editor.hidden = false;
    editor.scrollIntoView({block: "start"});
    fields.id.focus();
  }

  function dateHint(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  function expirationKept(e) {
    if (e.created_before) return `kept: last modified before ${e.created_before}`;
    if (e.date) return `kept: on ${e.date}`;
    if (e.expired_object_delete_marker !== null && e.expired_object_delete_marker !== undefined) {
      return "kept: expired delete markers";
    }
    return "";
  }

  function keptFields(rule) {
    const kept = [];
    const f = rule.filter;
    if (f) {
      for (const x of f.exclusions || []) kept.push(`not ${x.prefix}${x.tag ? ` tagged ${x.tag.key}=${x.tag.value}` : ""}`);
      if (f.size_greater_than !== null && f.size_greater_than !== undefined) kept.push(`larger than ${f.size_greater_than} B`);
      if (f.size_less_than !== null && f.size_less_than !== undefined) kept.push(`smaller than ${f.size_less_than} B`);
    }
    if (rule.noncurrent_expiration || (rule.noncurrent_transitions || []).length) kept.push("noncurrent-version actions");
    return kept;
  }

  function close() {
    editor.hidden = true;
    preview.hidden = true;
    editing = null;
    invalidate();
  }

  // The rule the form describes: the saved rule's JSON with the form's fields put in.
  function ruleFromForm() {
    const base = editing.base;
    const rule = JSON.parse(JSON.stringify(base));
    rule.id = fields.id.value.trim();
    rule.prefix = fields.prefix.value;
    rule.enabled = fields.enabled.checked;
    rule.abort_multipart_upload = action(fields.abortOn, fields.abortDays, base.abort_multipart_upload,
                                         "Abort incomplete uploads", (days) => ({days, created_before: null}));
    rule.expiration = action(fields.expireOn, fields.expireDays, base.expiration, "Expire objects",
                             (days) => ({days, created_before: null, date: null, expired_object_delete_marker: null}));
    rule.transitions = [];
    for (const cls of CLASSES) {
      const saved = (base.transitions || []).find((x) => x.storage_class === cls);
      const t = action(moveOn(cls), moveDays(cls), saved, `Move objects to ${cls}`,
                       (days) => Object.assign({}, saved || {is_access_time: null, return_to_std_when_visit: null,
                                                             allow_small_file: null},
                                               {storage_class: cls, days, created_before: null}));
      if (t) rule.transitions.push(t);
    }
    rule.tags = [];
    for (const line of fields.tags.value.split("\n")) {
      if (!line.trim()) continue;
      const at = line.indexOf("=");
      rule.tags.push(at < 0 ? {key: line.trim(), value: ""} : {key: line.slice(0, at).trim(), value: line.slice(at + 1).trim()});
    }
    return rule;
  }

  // An action from its checkbox and days: days when given, else what the saved rule said.
  function action(on, days, saved, label, byDays) {
    if (!on.checked) return null;
    if (days.value !== "") return byDays(Number(days.value));
    if (saved && !saved.days) return saved;
    throw new FormProblem(`${label}: give the number of days.`, days);
  }

  class FormProblem extends Error {
    constructor(message, input) { super(message); this.input = input; }
  }

  function showProblem(message, input) {
    clearProblem();
    problem.textContent = message;
    problem.hidden = false;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  function clearProblem() {
    problem.hidden = true;
    problem.textContent = "";
    for (const node of editor.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  // The form input a refusal's field (rule.abort_multipart_upload.days, rules[0].prefix) is about.
  function inputFor(field, rule) {
    const path = (field || "").replace(/^rules?(\[\d+\])?\.?/, "");
    const transition = path.match(/^transitions\[(\d+)\]/);
    if (transition && rule.transitions[Number(transition[1])]) {
      return moveDays(rule.transitions[Number(transition[1])].storage_class);
    }
    const first = {id: fields.id, prefix: fields.prefix, enabled: fields.enabled, tags: fields.tags,
                   abort_multipart_upload: fields.abortDays, expiration: fields.expireDays, now: fields.at,
                   transitions: rule.transitions.length ? moveDays(rule.transitions[0].storage_class) : null};
    const name = path.split(/[.[]/)[0];
    return first[name] || (field === "now" ? fields.at : null);
  }

  function refused(error, rule) {
    showProblem(error.message, inputFor(error.details.field, rule));
  }

  function invalidate() {
    previewed = null;
    saveButton.disabled = true;
    $("preview-hint").textContent = preview.hidden ? "Preview what the rule would act on before saving it."
      : "Changed since the preview: preview again before saving.";
  }

  // --- the preview -----------------------------------------------------------------------

  const LABELS = {AbortMultipartUpload: "Abort incomplete uploads", Expiration: "Expire objects"};

  function label(action) {
    return LABELS[action] || (action.startsWith("Transition:") ? `Move objects to ${action.slice(11)}` : action);
  }

  function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

  async function runPreview() {
    clearProblem();
    let rule;
    try {
      rule = ruleFromForm();
    } catch (error) {
      if (error instanceof FormProblem) return showProblem(error.message, error.input);
      throw error;
    }
    const body = {rules: [rule], limit: NAMED};
    if (fields.at.value) body.now = `${fields.at.value.length === 16 ? fields.at.value + ":00" : fields.at.value}Z`;
    let answer;
    try {
      answer = await Console.api("POST", `${api}/preview`, body);
    } catch (error) {
      if (error.status === 400) return refused(error, rule);
      return Console.notify(error.message, "error");
    }
    render(answer);
    previewed = JSON.stringify(rule);
    saveButton.disabled = false;
    $("preview-hint").textContent = "Check the preview, then Save or Cancel.";
  }

  function render(answer) {
    const [shown] = answer.rules;
    $("preview-summary").replaceChildren(
      `As of ${Console.instant(answer.now_ms)}, this rule would act on:`,
      shown.enabled ? "" : Console.el("span", {class: "disabled-note"},
        " (it is disabled: saved so, it does nothing until enabled)"));
    const parts = [];
    for (const o of shown.outcomes) parts.push(...outcome(o));
    if (!shown.outcomes.length) parts.push(Console.el("p", {class: "empty"}, "No action to preview."));
    for (const e of answer.errors) parts.push(Console.el("p", {class: "error"}, e.error));
    $("preview-actions").replaceChildren(...parts.filter((node) => node !== null));
    preview.hidden = false;
  }

  function outcome(o) {
    const uploads = o.action === "AbortMultipartUpload";
    const totals = uploads ? `${plural(o.matched, "upload")}, ${plural(o.parts, "part")}, ${Console.bytes(o.bytes)}`
                           : `${plural(o.matched, "object")}, ${Console.bytes(o.bytes)}`;
    const heading = Console.el("h4", {}, `${label(o.action)}: ${totals}`);
    if (!o.matched) return [heading, Console.el("p", {class: "hint"}, "Nothing to act on now.")];
    const head = uploads ? ["Key", "Upload ID", "Age", "Size", "Parts"] : ["Key", "Age", "Size"];
    const rows = o.items.map((item) => Console.el("tr", {},
      Console.el("td", {class: "key"}, item.key),
      uploads ? Console.el("td", {class: "mono"}, item.upload_id) : null,
      Console.el("td", {class: "num"}, Console.age(item.age_ms)),
      Console.el("td", {class: "num"}, Console.bytes(item.bytes)),
      uploads ? Console.el("td", {class: "num"}, String(item.parts)) : null));
    const table = Console.el("table", {class: "grid", "aria-label": `Preview: ${label(o.action)}`},
      Console.el("thead", {}, Console.el("tr", {}, head.map((h) => Console.el("th",
        {scope: "col", class: ["Age", "Size", "Parts"].includes(h) ? "num" : null}, h)))),
      Console.el("tbody", {}, rows));
    const more = o.truncated
      ? Console.el("p", {class: "summary"}, `The first ${o.items.length} of ${o.matched} are shown; ` +
                   `… and ${o.matched - o.items.length} more.`)
      : null;
    return [heading, table, more];
  }

  // --- saving and the rule list ----------------------------------------------------------

  async function save() {
    let rule;
    try {
      rule = ruleFromForm();
    } catch (error) {
      if (error instanceof FormProblem) return showProblem(error.message, error.input);
      throw error;
    }
    if (JSON.stringify(rule) !== previewed) return invalidate();
    try {
      if (editing.originalId === null) await Console.api("POST", `${api}/rules`, {rule});
      else await Console.api("PUT", `${api}/rules/${encodeURIComponent(editing.originalId)}`, {rule});
    } catch (error) {
      if (error.status === 400) return refused(error, rule);
      return Console.notify(error.message, "error");
    }
    window.location.assign(window.location.pathname);
  }

  async function savedRule(id) {
    const answer = await Console.api("GET", api);
    return answer.rules.find((r) => r.id === id);
  }

  function cleanupRule(days, prefix) {
    return {id: `abort-parts-after-${days}-days${prefix ? `-under-${prefix}` : ""}`, prefix, enabled: true,
            abort_multipart_upload: {days, created_before: null}};
  }

  async function cleanup(days, prefix) {
    open(`Clean up parts older than ${plural(days, "day")}`, cleanupRule(days, prefix || ""), null);
    await runPreview();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runPreview();
  });
  form.addEventListener("input", invalidate);
  form.addEventListener("change", invalidate);
  saveButton.addEventListener("click", save);
  $("cancel-rule").addEventListener("click", close);
  $("create-rule").addEventListener("click", () => open("New rule", {}, null));
  $("cleanup").addEventListener("submit", (event) => {
    event.preventDefault();
    const days = Number($("cleanup-days").value);
    if (Number.isInteger(days) && days > 0) cleanup(days);
  });

  for (const button of document.querySelectorAll("button.edit-rule")) {
    button.addEventListener("click", async () => {
      try {
        const rule = await savedRule(button.dataset.ruleId);
        if (rule) open(`Edit rule ${rule.id}`, rule, rule.id);
        else Console.notify("That rule is gone: reload the page.", "error");
      } catch (error) {
        Console.notify(error.message, "error");
      }
    });
  }

  for (const button of document.querySelectorAll("button.toggle-rule")) {
    button.addEventListener("click", async () => {
      const verb = button.dataset.enable === "true" ? "enable" : "disable";
      try {
        await Console.api("POST", `${api}/rules/${encodeURIComponent(button.dataset.ruleId)}/${verb}`);
        window.location.reload();
      } catch (error) {
        Console.notify(error.message, "error");
      }
    });
  }

  for (const button of document.querySelectorAll("button.delete-rule")) {
    button.addEventListener("click", async () => {
      const id = button.dataset.ruleId;
      if (!await Console.confirm("Delete rule", `Delete the lifecycle rule ${id}? It stops acting at once.`)) return;
      try {
        await Console.api("DELETE", `${api}/rules/${encodeURIComponent(id)}`);
        window.location.reload();
      } catch (error) {
        Console.notify(error.message, "error");
      }
    });
  }

  const asked = Number(main.dataset.cleanupDays);
  if (Number.isInteger(asked) && asked > 0) cleanup(asked, main.dataset.cleanupPrefix);
});
