// The console's shared helpers (docs/console.md, Pages and scripts). No inline scripts are
// allowed (CSP): pages load their own file, and read their data from data-* attributes.
"use strict";

(function () {
  const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

  // Every page's own script has run by DOMContentLoaded; until then <main> takes no clicks
  // (console.css), so none lands on a button not wired yet (docs/console.md, Pages and scripts).
  document.addEventListener("DOMContentLoaded", () => document.documentElement.classList.add("scripted"));

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || {};
    }
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function parse(response) {
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || "HttpError",
                         error.message || `The server answered ${response.status}.`, error);
    }
    return data;
  }

  // JSON in, JSON out; every state change carries the page's CSRF token.
  async function api(method, url, body) {
    const options = {method, headers: {"Accept": "application/json"}, credentials: "same-origin"};
    if (method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return parse(await fetch(url, options));
  }

  // A raw body (a file or a slice of one), with upload progress.
  function send(method, url, blob, options) {
    const onProgress = options && options.onProgress;
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(method, url);
      request.setRequestHeader("X-CSRF-Token", csrfToken());
      request.setRequestHeader("Accept", "application/json");
      if (onProgress) request.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.total));
      request.addEventListener("load", () => {
        parse(new Response(request.responseText || null, {status: request.status})).then(resolve, reject);
      });
      request.addEventListener("error", () => reject(new ApiError(0, "NetworkError", "The upload was interrupted.")));
      request.addEventListener("abort", () => reject(new ApiError(0, "Aborted", "The upload was cancelled.")));
      if (options && options.signal) options.signal.addEventListener("abort", () => request.abort());
      request.send(blob);
    });
  }

  // The page's confirmation dialog: resolves true for OK, false for Cancel (or Escape).
  function confirm(title, message) {
    const dialog = document.getElementById("confirm");
    dialog.querySelector("#confirm-title").textContent = title;
    dialog.querySelector("#confirm-message").textContent = message;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
      dialog.showModal();
      dialog.querySelector('button[value="cancel"]').focus();
    });
  }

  function notify(message, kind) {
    const region = document.getElementById(kind === "error" ? "alerts" : "notices");
    const note = el("p", {class: kind === "error" ? "notice error" : "notice"}, message);
    region.append(note);
    setTimeout(() => note.remove(), kind === "error" ? 15000 : 6000);
  }

  // Builds DOM from text only: children that are strings become text nodes, never markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    let value = Number(n), unit = 0;
    while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit += 1; }
    return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  function instant(ms) {
    if (ms === null || ms === undefined) return "—";
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
           `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }

  function age(ms) {
    if (ms === null || ms === undefined) return "—";
    let seconds = Math.max(0, Math.floor(ms / 1000));
    const shown = [];
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
      if (seconds >= size || (unit === "s" && shown.length === 0)) {
        shown.push(`${Math.floor(seconds / size)} ${unit}`);
        seconds %= size;
      }
      if (shown.length === 2) break;
    }
    return shown.join(" ");
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    return `${Number(amount).toFixed(4)} ${currency || ""}`.trim();
  }

  window.Console = {ApiError, api, send, confirm, notify, el, bytes, instant, age, money, csrfToken};
})();
