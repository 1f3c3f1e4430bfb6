// The Usage page: the period form is a plain GET form; picking a date means a custom period.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("usage-scope");
  if (!form) return;
  for (const name of ["from", "to"]) {
    form.elements[name].addEventListener("change", () => { form.elements.period.value = "custom"; });
  }
});
