/* The inquiry page's article picker: "Insert" puts the article's text and its public link into
   the reply where the cursor is, to be adapted before sending. The picker shows only when this
   script runs (no inline scripts: the pages are served under a CSP without 'unsafe-inline'). */
(() => {
  "use strict";

  const reveal = () => {
    document.querySelectorAll("[data-article-picker]").forEach((element) => element.classList.remove("d-none"));
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-article-insert]");
    if (!(button instanceof HTMLElement)) return;
    const field = document.getElementById(button.dataset.insertTarget || "");
    if (!(field instanceof HTMLTextAreaElement)) return;
    const text = button.dataset.insertText || "";
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    // Keep the article apart from what is already written around it.
    const before = field.value.slice(0, start);
    const after = field.value.slice(end);
    const lead = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    const tail = after && !after.startsWith("\n") ? "\n\n" : "";
    field.setRangeText(lead + text + tail, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
    const status = document.getElementById("article-picker-status");
    if (status) status.textContent = `“${button.dataset.insertTitle || "The article"}” inserted into the reply.`;
  });

  // Enter in the picker's search looks the articles up at once; it never sends the reply.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLInputElement && event.target.id === "article-picker-search") {
      event.preventDefault();
    }
  });
})();
