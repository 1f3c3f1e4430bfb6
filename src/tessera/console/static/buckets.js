// The Buckets page: create and delete buckets through the console's JSON API.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const problem = document.getElementById("bucket-problem");

  document.getElementById("create-bucket").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await Console.api("POST", "/-/console/api/buckets", {
        name: form.elements.name.value.trim(),
        storage_class: form.elements.storage_class.value,
        acl: form.elements.acl.value,
      });
      window.location.reload();
    } catch (error) {
      Console.notify(error.message, "error");
    }
  });

  for (const button of document.querySelectorAll("button.delete-bucket")) {
    button.addEventListener("click", async () => {
      const name = button.dataset.bucket;
      problem.hidden = true;
      problem.replaceChildren();
      if (!await Console.confirm("Delete bucket", `Delete the bucket ${name}? This cannot be undone.`)) return;
      try {
        await Console.api("DELETE", `/-/console/api/buckets/${encodeURIComponent(name)}`);
        window.location.reload();
      } catch (error) {
        problem.append(error.message);
        if (error.details && error.details.part_management) {
          const n = error.details.uploads;
          problem.append(" ", Console.el("a", {href: error.details.part_management},
            `${n} incomplete upload${n === 1 ? "" : "s"} block it: open Part Management`));
        }
        problem.hidden = false;
      }
    });
  }
});
