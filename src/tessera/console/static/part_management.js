// Part Management (docs/console.md, Part Management): the bucket's incomplete uploads, a page at
// a time from the JSON API (keyset cursors), selection, Delete / Delete All with a confirmation
// that states what goes, the Delete All job's progress, and one upload's parts.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const main = document.querySelector('main[data-page="part-management"]');
  if (!main) return;
  const bucket = main.dataset.bucket;
  const currency = main.dataset.currency;
  const api = `/-/console/api/buckets/${encodeURIComponent(bucket)}`;
  const SORTS = ["key", "initiated", "last_part", "parts", "size"];
  const state = {
    prefix: main.dataset.prefix || "",
    sort: SORTS.includes(main.dataset.sort) ? main.dataset.sort : "initiated",
    order: main.dataset.order === "desc" ? "desc" : "asc",
    cursor: null,        // the cursor the shown page was loaded from (null: the first page)
    next: null,
    previous: null,
    shown: new Map(),    // upload_id → upload, for the rows on screen
    selected: new Set(),
  };
  const $ = (id) => document.getElementById(id);
  const table = $("uploads");
  const body = table.querySelector("tbody");
  const selectAll = $("select-all");
  const jobKey = `tessera-delete-all-${bucket}`;

  // Parts cost fractions of a cent: say so rather than show a zero.
  function money(amount) {
    return amount > 0 && amount < 0.00005 ? `< 0.0001 ${currency}` : Console.money(amount, currency);
  }

  function plural(n, word) { return `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`; }

  function describe(t) {
    return `${plural(t.uploads, "upload")}, ${plural(t.parts, "part")} and ` +
           `${Console.bytes(t.bytes)} (${plural(t.bytes, "byte")})`;
  }

  function remember() {
    const query = new URLSearchParams();
    if (state.prefix) query.set("prefix", state.prefix);
    if (state.sort !== "initiated") query.set("sort", state.sort);
    if (state.order !== "asc") query.set("order", state.order);
    const search = query.toString();
    history.replaceState(null, "", window.location.pathname + (search ? `?${search}` : ""));
  }

  function showSortState() {
    for (const th of table.querySelectorAll("th[data-sort]")) {
      const active = th.dataset.sort === state.sort;
      if (active) th.setAttribute("aria-sort", state.order === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
      th.classList.toggle("sorted", active);
    }
  }

  function row(u) {
    const checkbox = Console.el("input", {type: "checkbox", "aria-label": `Select ${u.key}`,
                                          dataset: {uploadId: u.upload_id}});
    checkbox.checked = state.selected.has(u.upload_id);
    checkbox.addEventListener("change", () => {
      if (checkbox.checked) state.selected.add(u.upload_id); else state.selected.delete(u.upload_id);
      showSelection();
    });
    const open = Console.el("button", {type: "button", class: "link mono", title: "Show its parts"}, u.upload_id);
    open.addEventListener("click", () => showParts(u));
    const remove = Console.el("button", {type: "button", class: "danger", "aria-label": `Delete upload ${u.key}`},
                              "Delete");
    remove.addEventListener("click", () => deleteSelected([u.upload_id]));
    return Console.el("tr", {dataset: {uploadId: u.upload_id}},
      Console.el("td", {}, checkbox),
      Console.el("td", {class: "key"}, u.key),
      Console.el("td", {}, open),
      Console.el("td", {class: "when"}, Console.instant(u.initiated_ms)),
      Console.el("td", {class: "when"}, u.last_part_ms === null ? "no part yet" : Console.instant(u.last_part_ms)),
      Console.el("td", {class: "num"}, u.parts.toLocaleString("en")),
      Console.el("td", {class: "num"}, Console.bytes(u.bytes)),
      Console.el("td", {}, u.storage_class),
      Console.el("td", {class: "num"}, money(u.cost_so_far)),
      Console.el("td", {class: "num"}, money(u.monthly_cost)),
      Console.el("td", {}, remove));
  }

  function showSelection() {
    const n = state.selected.size;
    $("delete-selected").disabled = n === 0;
    let parts = 0, size = 0;
    for (const id of state.selected) {
      const u = state.shown.get(id);
      if (u) { parts += u.parts; size += u.bytes; }
    }
    $("selection-hint").textContent = n === 0
      ? "Select uploads to delete them, or Delete All that match the search."
      : `${plural(n, "upload")} selected: ${plural(parts, "part")}, ${Console.bytes(size)}.`;
    selectAll.checked = n > 0 && n === state.shown.size;
    selectAll.indeterminate = n > 0 && n < state.shown.size;
  }

  async function load(cursor) {
    table.setAttribute("aria-busy", "true");
    const query = new URLSearchParams({sort: state.sort, order: state.order, limit: "50"});
    if (state.prefix) query.set("prefix", state.prefix);
    if (cursor) query.set("cursor", cursor);
    let page;
    try {
      page = await Console.api("GET", `${api}/uploads?${query}`);
    } catch (error) {
      Console.notify(error.message, "error");
      table.setAttribute("aria-busy", "false");
      return;
    }
    if (cursor && page.uploads.length === 0) return load(null);  // this page emptied: start over
    state.cursor = cursor;
    state.next = page.next_cursor;
    state.previous = page.previous_cursor;
    state.shown = new Map(page.uploads.map((u) => [u.upload_id, u]));
    state.selected = new Set([...state.selected].filter((id) => state.shown.has(id)));
    body.replaceChildren(...page.uploads.map(row));
    $("no-uploads").hidden = page.uploads.length > 0;
    $("next-page").disabled = !state.next;
    $("previous-page").disabled = !state.previous;
    const t = page.totals;
    const scope = state.prefix ? `whose key starts with “${state.prefix}” ` : "";
    $("summary").textContent = t.exact
      ? `${plural(t.uploads, "incomplete upload")} ${scope}${t.uploads === 1 ? "holds" : "hold"} ` +
        `${plural(t.parts, "part")}, ${Console.bytes(t.bytes)}.`
      : `More than ${plural(t.uploads, "incomplete upload")} ${scope}(Delete All counts them all before it asks).`;
    $("delete-all").disabled = t.uploads === 0;
    table.setAttribute("aria-busy", "false");
    showSortState();
    showSelection();
    remember();
  }

  async function deleteSelected(ids) {
    let totals;
    try {
      totals = await Console.api("POST", `${api}/uploads/totals`, {upload_ids: ids});
    } catch (error) { Console.notify(error.message, "error"); return; }
    if (totals.uploads === 0) { Console.notify("Those uploads are already gone."); return load(state.cursor); }
    const ok = await Console.confirm("Delete uploads",
      `${describe(totals)} will be deleted from ${bucket}. Parts cannot be recovered.`);
    if (!ok) return;
    try {
      const done = await Console.api("POST", `${api}/uploads/delete`, {upload_ids: ids});
      const gone = done.missing.length ? ` (${plural(done.missing.length, "upload")} had already gone)` : "";
      Console.notify(`Deleted ${describe(done.freed)}${gone}.`);
    } catch (error) { Console.notify(error.message, "error"); }
    for (const id of ids) state.selected.delete(id);
    if (parts.upload && ids.includes(parts.upload.upload_id)) $("upload-parts").hidden = true;
    await load(state.cursor);
  }

  async function deleteAll() {
    let totals;
    try {
      totals = await Console.api("POST", `${api}/uploads/totals`, {prefix: state.prefix});
    } catch (error) { Console.notify(error.message, "error"); return; }
    if (totals.uploads === 0) { Console.notify("There is nothing to delete."); return; }
    const scope = state.prefix ? ` whose key starts with “${state.prefix}”` : "";
    const ok = await Console.confirm("Delete All",
      `Every incomplete upload of ${bucket}${scope}: ${describe(totals)} will be deleted. ` +
      "Uploads started from now on are kept. Parts cannot be recovered.");
    if (!ok) return;
    try {
      const started = await Console.api("POST", `${api}/uploads/delete-all`, {prefix: state.prefix});
      localStorage.setItem(jobKey, started.job.job_id);
      $("upload-parts").hidden = true;
      follow(started.job);
    } catch (error) { Console.notify(error.message, "error"); }
  }

  // The job runs on the server; this only watches it (and picks it up again after a reload).
  function follow(job) {
    const panel = $("job"), bar = $("job-progress"), text = $("job-text");
    panel.hidden = false;
    $("delete-all").disabled = true;
    const show = (j) => {
      bar.max = Math.max(1, j.total.uploads);
      bar.value = j.freed.uploads;
      const scope = j.prefix ? ` under “${j.prefix}”` : "";
      if (j.state === "running") {
        text.textContent = `Deleting${scope}: ${j.freed.uploads.toLocaleString("en")} of ` +
          `${plural(j.total.uploads, "upload")} so far (${plural(j.freed.parts, "part")}, ` +
          `${Console.bytes(j.freed.bytes)} freed).`;
      } else if (j.state === "done") {
        text.textContent = `Done: deleted ${describe(j.freed)}${scope}.`;
      } else {
        text.textContent = `Stopped after deleting ${describe(j.freed)}: ${j.error || "unknown error"}`;
      }
    };
    show(job);
    const poll = async () => {
      let current;
      try {
        current = (await Console.api("GET", `${api}/jobs/${encodeURIComponent(job.job_id)}`)).job;
      } catch (error) {
        if (error.status === 404) { localStorage.removeItem(jobKey); panel.hidden = true; return; }
        setTimeout(poll, 2000);
        return;
      }
      show(current);
      if (current.state === "running") { setTimeout(poll, 500); return; }
      localStorage.removeItem(jobKey);
      Console.notify(current.state === "done" ? `Delete All finished: ${describe(current.freed)} freed.`
                                              : `Delete All stopped: ${current.error}`,
                     current.state === "done" ? "info" : "error");
      state.selected.clear();
      load(null);
    };
    setTimeout(poll, 300);
  }

  const parts = {upload: null, after: null};

  async function showParts(u, more) {
    const panel = $("upload-parts");
    const tbody = panel.querySelector("tbody");
    if (!more) { parts.upload = u; parts.after = 0; tbody.replaceChildren(); }
    let found;
    try {
      found = await Console.api("GET",
        `${api}/uploads/${encodeURIComponent(u.upload_id)}/parts?after=${parts.after}&limit=100`);
    } catch (error) { Console.notify(error.message, "error"); return; }
    const up = found.upload;
    $("parts-title").textContent = `Parts of ${up.key}`;
    $("parts-summary").textContent = `Upload ${up.upload_id} · initiated ${Console.instant(up.initiated_ms)} · ` +
      `${plural(up.parts, "part")}, ${Console.bytes(up.bytes)} · ${up.storage_class} · ` +
      `${money(up.cost_so_far)} so far, ${money(up.monthly_cost)} a month`;
    tbody.append(...found.parts.map((p) => Console.el("tr", {},
      Console.el("td", {class: "num"}, String(p.part_number)),
      Console.el("td", {class: "num"}, Console.bytes(p.size)),
      Console.el("td", {class: "mono"}, p.etag),
      Console.el("td", {class: "mono"}, p.crc64),
      Console.el("td", {}, Console.instant(p.uploaded_ms)))));
    if (found.parts.length === 0 && !more) {
      tbody.append(Console.el("tr", {}, Console.el("td", {colspan: "5", class: "empty"}, "No part uploaded yet.")));
    }
    parts.after = found.next_after;
    $("more-parts").hidden = found.next_after === null;
    panel.hidden = false;
    if (!more) panel.scrollIntoView({block: "start"});
  }

  $("more-parts").addEventListener("click", () => showParts(parts.upload, true));
  $("close-parts").addEventListener("click", () => { $("upload-parts").hidden = true; });

  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.prefix = $("search-prefix").value;
    $("cleanup-prefix").value = state.prefix;  // the clean-up rule covers what is searched
    $("cleanup-scope").textContent = (state.prefix ? `for keys starting with “${state.prefix}”` : "for the whole bucket") +
      ": a lifecycle rule that aborts such uploads every day.";
    state.selected.clear();
    load(null);
  });
  for (const th of table.querySelectorAll("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      if (state.sort === th.dataset.sort) state.order = state.order === "asc" ? "desc" : "asc";
      else { state.sort = th.dataset.sort; state.order = "asc"; }
      state.selected.clear();
      load(null);
    });
  }
  selectAll.addEventListener("change", () => {
    state.selected = selectAll.checked ? new Set(state.shown.keys()) : new Set();
    for (const box of body.querySelectorAll("input[type=checkbox]")) box.checked = selectAll.checked;
    showSelection();
  });
  $("next-page").addEventListener("click", () => load(state.next));
  $("previous-page").addEventListener("click", () => load(state.previous));
  $("delete-selected").addEventListener("click", () => deleteSelected([...state.selected]));
  $("delete-all").addEventListener("click", deleteAll);

  load(null);
  const running = localStorage.getItem(jobKey);
  if (running) {
    Console.api("GET", `${api}/jobs/${encodeURIComponent(running)}`)
      .then((answer) => { if (answer.job.state === "running") follow(answer.job); else localStorage.removeItem(jobKey); })
      .catch(() => localStorage.removeItem(jobKey));
  }
});
