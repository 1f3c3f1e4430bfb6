// The Objects page (a folder's listing: paging, search, select and delete) and the object
// details page (delete). Keys are user text: rows are built with Console.el, text nodes only.
"use strict";

(function () {
  const enc = encodeURIComponent;

  function base(bucket) { return `/-/console/buckets/${enc(bucket)}`; }
  function apiBase(bucket) { return `/-/console/api/buckets/${enc(bucket)}`; }

  // Deletes the keys after the confirmation dialog; resolves true when something was deleted.
  async function deleteKeys(bucket, keys, title, message) {
    if (!await Console.confirm(title, message)) return false;
    try {
      const answer = await Console.api("POST", `${apiBase(bucket)}/objects/delete`, {keys});
      for (const refused of answer.refused) Console.notify(`${refused.key}: ${refused.message}`, "error");
      if (answer.deleted.length) {
        Console.notify(answer.deleted.length === 1 ? `Deleted ${answer.deleted[0]}` : `Deleted ${answer.deleted.length} objects`);
      }
      return answer.deleted.length > 0;
    } catch (error) {
      Console.notify(error.message, "error");
      return false;
    }
  }

  function listingPage(main) {
    const bucket = main.dataset.bucket;
    const folder = main.dataset.prefix;
    const limit = main.dataset.limit;
    const rows = document.getElementById("object-rows");
    const summary = document.getElementById("listing-summary");
    const empty = document.getElementById("listing-empty");
    const table = document.querySelector("table.objects");
    const below = document.querySelector(".toolbar.below");
    const selectAll = document.getElementById("select-all");
    const deleteSelected = document.getElementById("delete-selected");
    const selectedCount = document.getElementById("selected-count");
    const previous = document.getElementById("page-previous");
    const next = document.getElementById("page-next");
    const pageNumber = document.getElementById("page-number");
    const searchBox = document.getElementById("search-prefix");

    // markers[i] is where page i starts: Previous pops back to the marker before.
    let markers = main.dataset.marker ? ["", main.dataset.marker] : [""];
    let index = markers.length - 1;
    let nextMarker = null;
    let search = "";

    function folderUrl(prefix) {
      const query = new URLSearchParams({prefix});
      if (limit !== "100") query.set("limit", limit);
      return `${base(bucket)}/objects?${query}`;
    }

    function nameOf(key) { return key.slice(folder.length) || key; }

    function selectedKeys() {
      return Array.from(rows.querySelectorAll("input.pick:checked"), (box) => box.dataset.key);
    }

    function updateSelection() {
      const keys = selectedKeys();
      const boxes = rows.querySelectorAll("input.pick");
      deleteSelected.disabled = keys.length === 0;
      selectedCount.textContent = keys.length === 0 ? "No objects selected"
        : `${keys.length} object${keys.length === 1 ? "" : "s"} selected`;
      selectAll.checked = boxes.length > 0 && keys.length === boxes.length;
      selectAll.indeterminate = keys.length > 0 && keys.length < boxes.length;
    }

    function folderRow(prefix) {
      const name = nameOf(prefix);
      return Console.el("tr", {class: "folder"},
        Console.el("td", {class: "pick"}),
        Console.el("td", {class: "key"}, Console.el("a", {href: folderUrl(prefix), class: "foldername"}, name)),
        Console.el("td", {class: "num"}, "—"), Console.el("td", {}, "—"), Console.el("td", {}, "Folder"),
        Console.el("td", {}, "—"), Console.el("td", {}));
    }

    function objectRow(o) {
      const name = nameOf(o.key);
      const remove = Console.el("button", {type: "button", class: "link danger-link", "aria-label": `Delete ${name}`}, "Delete");
      remove.addEventListener("click", async () => {
        if (await deleteKeys(bucket, [o.key], "Delete object", `Delete ${o.key}? This cannot be undone.`)) load();
      });
      return Console.el("tr", {dataset: {key: o.key}},
        Console.el("td", {class: "pick"}, Console.el("input", {type: "checkbox", class: "pick", "aria-label": `Select ${name}`,
                                                              dataset: {key: o.key}})),
        Console.el("td", {class: "key"}, Console.el("a", {href: `${base(bucket)}/object?key=${enc(o.key)}`}, name)),
        Console.el("td", {class: "num"}, Console.bytes(o.size)),
        Console.el("td", {}, o.storage_class),
        Console.el("td", {}, o.object_type),
        Console.el("td", {}, Console.instant(o.last_modified_ms)),
        Console.el("td", {class: "actions"},
          Console.el("a", {href: `${base(bucket)}/download?key=${enc(o.key)}`, download: true}, "Download"),
          remove));
    }

    function render(data) {
      rows.replaceChildren(...data.folders.map(folderRow), ...data.objects.map(objectRow));
      const shown = data.folders.length + data.objects.length;
      empty.hidden = shown > 0;
      table.hidden = shown === 0;
      below.hidden = shown === 0 && index === 0;
      empty.textContent = search ? `Nothing in this folder starts with ${search}.`
        : "Nothing here. Upload files, or put objects with any OSS SDK.";
      const what = [];
      if (data.folders.length) what.push(`${data.folders.length} folder${data.folders.length === 1 ? "" : "s"}`);
      what.push(`${data.objects.length} object${data.objects.length === 1 ? "" : "s"}`);
      summary.textContent = (search ? `Names starting with ${search}: ` : "") + what.join(", ") +
        (data.is_truncated || index > 0 ? ` on page ${index + 1}` : "");
      nextMarker = data.is_truncated ? data.next_marker : null;
      previous.disabled = index === 0;
      next.disabled = nextMarker === null;
      pageNumber.textContent = `Page ${index + 1}`;
      updateSelection();
    }

    async function load() {
      const query = new URLSearchParams({prefix: folder + search, delimiter: "/", marker: markers[index], limit});
      try {
        render(await Console.api("GET", `${apiBase(bucket)}/objects?${query}`));
      } catch (error) {
        Console.notify(error.message, "error");
      }
    }

    next.addEventListener("click", () => {
      if (nextMarker === null) return;
      markers = markers.slice(0, index + 1).concat([nextMarker]);
      index += 1;
      load();
    });
    previous.addEventListener("click", () => {
      if (index === 0) return;
      index -= 1;
      load();
    });
    document.getElementById("search").addEventListener("submit", (event) => {
      event.preventDefault();
      search = searchBox.value;
      markers = [""];
      index = 0;
      load();
    });
    searchBox.addEventListener("search", () => {  // the box's clear button
      if (searchBox.value === "" && search !== "") {
        search = "";
        markers = [""];
        index = 0;
        load();
      }
    });
    rows.addEventListener("change", (event) => { if (event.target.matches("input.pick")) updateSelection(); });
    selectAll.addEventListener("change", () => {
      for (const box of rows.querySelectorAll("input.pick")) box.checked = selectAll.checked;
      updateSelection();
    });
    deleteSelected.addEventListener("click", async () => {
      const keys = selectedKeys();
      if (!keys.length) return;
      const named = keys.slice(0, 5).join(", ") + (keys.length > 5 ? `, and ${keys.length - 5} more` : "");
      const title = `Delete ${keys.length} object${keys.length === 1 ? "" : "s"}`;
      if (await deleteKeys(bucket, keys, title, `${title}: ${named}? This cannot be undone.`)) load();
    });
    // upload.js tells the listing when new objects arrived.
    document.addEventListener("tessera:objects-changed", load);
    load();
  }

  function detailsPage(main) {
    const bucket = main.dataset.bucket;
    const key = main.dataset.key;
    document.getElementById("delete-object").addEventListener("click", async () => {
      if (await deleteKeys(bucket, [key], "Delete object", `Delete ${key}? This cannot be undone.`)) {
        window.location.assign(`${base(bucket)}/objects?${new URLSearchParams({prefix: main.dataset.folder})}`);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const main = document.getElementById("main");
    if (document.getElementById("object-rows")) listingPage(main);
    else if (document.getElementById("delete-object")) detailsPage(main);
  });
})();
