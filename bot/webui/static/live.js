// klaxon web console: live updates. A region marked data-live is fetched
// again when the server says incidents changed (server-sent events), and
// swapped in place; a textarea marked data-preview has its Markdown
// rendered by the server as it is typed. Without JavaScript the pages work
// as they are: reload to see changes, press Preview to render.
"use strict";
(function () {
  const source = document.querySelector("textarea[data-preview]");
  const target = source && document.querySelector(source.dataset.preview);
  if (source && target) {
    let pending = 0;
    source.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(async function () {
        const form = new FormData(source.form);
        form.set("do", "render");
        const resp = await fetch(source.form.action, { method: "POST", body: new URLSearchParams(form), credentials: "same-origin" });
        if (resp.ok) target.innerHTML = await resp.text(); // sanitised by the server
      }, 400);
    });
  }
})();
(function () {
  const region = document.querySelector("[data-live]");
  if (!region || !window.EventSource) return;
  const events = new EventSource(region.dataset.live);
  let timer = 0;
  events.addEventListener("changed", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });
  async function refresh() {
    // A form being filled in is not swapped away under the person.
    if (region.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return;
    const resp = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const fresh = doc.querySelector("[data-live]");
    if (fresh) region.replaceChildren(...fresh.childNodes);
  }
})();
