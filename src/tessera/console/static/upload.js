// Uploads from the Objects page (docs/console.md, Uploads from the browser): a small file in one
// request; a large one as a multipart upload, PARALLEL parts at a time, resumable after a page
// reload — the upload's ID is kept in localStorage until Complete, and choosing the same file
// for the same key again sends only the parts the server does not have.
"use strict";

(function () {
  const MiB = 1024 * 1024;
  const SINGLE_REQUEST_LIMIT = 8 * MiB;  // larger files go multipart
  const PART_SIZE = 8 * MiB;  // doubled for huge files, so that no upload needs more than MAX_PARTS
  const MAX_PARTS = 10000;
  const PARALLEL = 3;
  const STORE_PREFIX = "tessera.console.upload:";
  const enc = encodeURIComponent;

  function partSizeFor(size) {
    let part = PART_SIZE;
    while (Math.ceil(size / part) > MAX_PARTS) part *= 2;
    return part;
  }

  function storeKey(bucket, key) { return `${STORE_PREFIX}${bucket}/${key}`; }

  // The upload this file was part of before, if the page kept one: same bucket, key, name,
  // size and modification time.
  function remembered(bucket, key, file) {
    let state = null;
    try { state = JSON.parse(localStorage.getItem(storeKey(bucket, key)) || "null"); } catch (e) { state = null; }
    if (!state || state.bucket !== bucket || state.key !== key || state.name !== file.name ||
        state.size !== file.size || state.lastModified !== file.lastModified || !state.upload_id) return null;
    return state;
  }

  // Bytes sent so far across a batch of files: finished parts plus those in flight.
  class Progress {
    constructor(total, bar, amount) {
      this.total = total;
      this.done = 0;
      this.inFlight = new Map();
      this.bar = bar;
      this.amount = amount;
      bar.max = Math.max(total, 1);
      this.show();
    }
    sending(id, loaded) { this.inFlight.set(id, loaded); this.show(); }
    finished(id, size) { this.inFlight.delete(id); this.done += size; this.show(); }
    dropped(id) { this.inFlight.delete(id); this.show(); }
    show() {
      let loaded = this.done;
      for (const value of this.inFlight.values()) loaded += value;
      loaded = Math.min(loaded, this.total);
      this.bar.value = loaded;
      this.amount.textContent = `${Console.bytes(loaded)} of ${Console.bytes(this.total)}`;
    }
  }

  function uploader(main) {
    const bucket = main.dataset.bucket;
    const folder = main.dataset.prefix;
    const api = `/-/console/api/buckets/${enc(bucket)}`;
    const form = document.getElementById("upload");
    const input = document.getElementById("upload-files");
    const submit = form.querySelector('button[type="submit"]');
    const panel = document.getElementById("upload-panel");
    const bar = document.getElementById("upload-progress");
    const amount = document.getElementById("upload-amount");
    const cancel = document.getElementById("upload-cancel");
    const list = document.getElementById("upload-files-status");
    let controller = null;
    let active = [];  // multipart uploads of the running batch, aborted by Cancel

    async function single(file, key, progress, signal) {
      await Console.send("PUT", `${api}/object?key=${enc(key)}`, file,
                         {signal, onProgress: (loaded) => progress.sending(key, loaded)});
      progress.finished(key, file.size);
    }

    async function existingParts(state) {
      try {
        const answer = await Console.api("GET", `${api}/multipart/${enc(state.upload_id)}?key=${enc(state.key)}`);
        return new Map(answer.parts.map((p) => [p.part_number, p]));
      } catch (error) {
        if (error.status === 404) return null;  // completed or aborted meanwhile: start again
        throw error;
      }
    }

    async function multipart(file, key, progress, signal, status) {
      let state = remembered(bucket, key, file);
      let there = state ? await existingParts(state) : null;
      if (there === null) {
        const made = await Console.api("POST", `${api}/multipart?key=${enc(key)}`, {content_type: file.type});
        state = {bucket, key, size: file.size, lastModified: file.lastModified, name: file.name,
                 upload_id: made.upload_id, part_size: partSizeFor(file.size)};
        localStorage.setItem(storeKey(bucket, key), JSON.stringify(state));
        there = new Map();
      }
      active.push(state);
      if (signal.aborted) {  // Cancel came while the upload was being started or looked up
        await discard(state);
        throw new Console.ApiError(0, "Aborted", "The upload was cancelled.");
      }
      const count = Math.ceil(file.size / state.part_size);
      const etags = new Array(count + 1);
      const todo = [];
      for (let n = 1; n <= count; n += 1) {
        const size = Math.min(state.part_size, file.size - (n - 1) * state.part_size);
        const part = there.get(n);
        if (part && part.size === size) {  // there already, whole: not sent again
          etags[n] = part.etag;
          progress.finished(`${key}#${n}`, size);
        } else {
          todo.push(n);
        }
      }
      const resumed = count - todo.length;
      status(`uploading in ${count} parts` + (resumed ? ` (${resumed} already uploaded, resumed)` : ""));
      let failure = null;
      async function worker() {
        while (todo.length && failure === null && !signal.aborted) {
          const n = todo.shift();
          const start = (n - 1) * state.part_size;
          const blob = file.slice(start, Math.min(start + state.part_size, file.size));
          const id = `${key}#${n}`;
          try {
            const part = await Console.send("PUT", `${api}/multipart/${enc(state.upload_id)}/${n}?key=${enc(key)}`, blob,
                                            {signal, onProgress: (loaded) => progress.sending(id, loaded)});
            etags[n] = part.etag;
            progress.finished(id, blob.size);
          } catch (error) {
            progress.dropped(id);
            if (failure === null) failure = error;
          }
        }
      }
      // A failed part stops new ones; those in flight finish, so a resume has less to send.
      await Promise.all(Array.from({length: Math.min(PARALLEL, Math.max(todo.length, 1))}, worker));
      if (failure !== null) throw failure;
      if (signal.aborted) throw new Console.ApiError(0, "Aborted", "The upload was cancelled.");
      const parts = [];
      for (let n = 1; n <= count; n += 1) parts.push({part_number: n, etag: etags[n]});
      await Console.api("POST", `${api}/multipart/${enc(state.upload_id)}/complete?key=${enc(key)}`, {parts});
      localStorage.removeItem(storeKey(bucket, key));
      active = active.filter((s) => s !== state);
    }

    async function run(files) {
      controller = new AbortController();
      active = [];
      const signal = controller.signal;
      const progress = new Progress(files.reduce((sum, f) => sum + f.size, 0), bar, amount);
      list.replaceChildren();
      panel.hidden = false;
      cancel.disabled = false;
      submit.disabled = true;
      let failed = 0;
      for (const file of files) {
        const key = folder + file.name;
        const state = Console.el("span", {class: "state"}, "waiting");
        list.append(Console.el("li", {}, Console.el("span", {class: "key"}, key), " ", state));
        const status = (text) => { state.textContent = text; };
        try {
          if (signal.aborted) throw new Console.ApiError(0, "Aborted", "The upload was cancelled.");
          if (file.size <= SINGLE_REQUEST_LIMIT) {
            status("uploading");
            await single(file, key, progress, signal);
          } else {
            await multipart(file, key, progress, signal, status);
          }
          status("done");
        } catch (error) {
          failed += 1;
          const resumable = file.size > SINGLE_REQUEST_LIMIT && error.code !== "Aborted";
          status(error.code === "Aborted" ? "cancelled"
            : `failed: ${error.message}` + (resumable ? " Choose the same file again to resume." : ""));
          state.classList.add("error");
        }
      }
      cancel.disabled = true;
      submit.disabled = false;
      if (!failed) {
        input.value = "";
        Console.notify(files.length === 1 ? `Uploaded ${folder + files[0].name}` : `Uploaded ${files.length} files`);
      }
      showResumable();
      document.dispatchEvent(new CustomEvent("tessera:objects-changed"));
    }

    // After a reload: say which uploads of this folder can be resumed, and from which file.
    function showResumable() {
      const section = document.getElementById("upload-resumable");
      const items = [];
      for (let i = 0; i < localStorage.length; i += 1) {
        const name = localStorage.key(i);
        if (!name || !name.startsWith(STORE_PREFIX)) continue;
        let state = null;
        try { state = JSON.parse(localStorage.getItem(name)); } catch (e) { state = null; }
        if (!state || state.bucket !== bucket || !String(state.key).startsWith(folder)) continue;
        items.push(Console.el("li", {}, Console.el("span", {class: "key"}, state.key), ` from ${state.name} (${Console.bytes(state.size)})`));
      }
      section.querySelector("ul").replaceChildren(...items);
      section.hidden = items.length === 0;
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const files = Array.from(input.files || []);
      if (files.length) run(files);
    });

    // Cancelled for good: the parts already sent are freed, and nothing is left to resume.
    async function discard(state) {
      localStorage.removeItem(storeKey(state.bucket, state.key));
      active = active.filter((s) => s !== state);
      try {
        await Console.api("DELETE", `${api}/multipart/${enc(state.upload_id)}?key=${enc(state.key)}`);
      } catch (error) {
        if (error.status !== 404) Console.notify(error.message, "error");
      }
    }

    cancel.addEventListener("click", async () => {
      if (!controller) return;
      controller.abort();
      cancel.disabled = true;
      await Promise.all(active.map(discard));
      showResumable();
    });
    showResumable();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const main = document.getElementById("main");
    if (document.getElementById("upload")) uploader(main);
  });
})();
