/* Small behaviours of the staff console. No inline scripts: the pages are served under a
   Content-Security-Policy without 'unsafe-inline'. */
(() => {
  "use strict";

  const isTyping = (element) =>
    element instanceof Element &&
    element.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");

  // "/" jumps to the customer search from anywhere but a text field; Escape leaves it.
  document.addEventListener("keydown", (event) => {
    const search = document.getElementById("global-search");
    if (!search) return;
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && event.target === search) {
      search.blur();
    }
  });

  // A live "n / max" counter under text areas that declare data-counter="<id of the output>".
  const updateCounter = (field) => {
    const output = document.getElementById(field.dataset.counter || "");
    if (!output) return;
    const max = Number(field.getAttribute("maxlength")) || 0;
    const length = field.value.length;
    if (length === 0) {
      output.textContent = "";
    } else {
      output.textContent = max ? `${length.toLocaleString("en-US")} / ${max.toLocaleString("en-US")} characters` : String(length);
    }
    output.classList.toggle("text-danger", max > 0 && length > max);
  };
  const initCounters = (root) => {
    root.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
  };
  document.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.dataset.counter) {
      updateCounter(event.target);
    }
  });
  document.addEventListener("DOMContentLoaded", () => initCounters(document));

  // After htmx swaps a form back in, keep the keyboard user's place: the field in error, or
  // the (now empty) field they were writing in.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail && event.detail.target;
    if (!(target instanceof Element)) return;
    initCounters(document);
    const form = target.matches("form") ? target : target.querySelector("form");
    const swapped = form && document.getElementById(form.id);
    if (!swapped || !swapped.hasAttribute("data-keep-focus")) return;
    const field = swapped.querySelector("[aria-invalid='true']") || swapped.querySelector("textarea, input:not([type=hidden])");
    if (field) field.focus({ preventScroll: true });
  });

  // "Older entries" replaces itself with the older entries: move focus to the first of them,
  // so that keyboard and screen-reader users continue reading where the list grew.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.target;
    if (!(elt instanceof Element) || !elt.matches("[data-focus-next]")) return;
    const item = elt.closest("li");
    const list = item && item.parentElement;
    if (list) list.dataset.focusAfter = String(Array.prototype.indexOf.call(list.children, item));
  });
  document.addEventListener("htmx:afterSettle", () => {
    document.querySelectorAll("[data-focus-after]").forEach((list) => {
      const index = Number(list.dataset.focusAfter);
      delete list.dataset.focusAfter;
      const first = list.children[index];
      if (first instanceof HTMLElement) {
        first.setAttribute("tabindex", "-1");
        first.focus({ preventScroll: true });
      }
    });
  });
})();

// The return receipt's "Print" button (inline handlers are not allowed by the CSP).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

// The inquiry page: a canned response chosen from the list is inserted into the reply where the
// cursor is, to be adapted before sending. The list shows only when this script runs.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-canned]").forEach((element) => element.classList.remove("d-none"));
});
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.dataset.cannedTarget) return;
  const option = select.selectedOptions[0];
  const field = document.getElementById(select.dataset.cannedTarget);
  if (!option || !option.value || !(field instanceof HTMLTextAreaElement)) return;
  const body = option.dataset.body || "";
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? field.value.length;
  field.setRangeText(body, start, end, "end");
  field.dispatchEvent(new Event("input", { bubbles: true }));
  select.value = "";
  field.focus();
});

// Forms that undo work ask first (data-confirm="question"); inline handlers are not allowed.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// A checkbox with data-enables="<id>" enables the fieldset it names only while ticked (the
// call-back window of the web form). Without scripts the fields simply stay enabled.
(() => {
  "use strict";
  const sync = (box) => {
    const target = document.getElementById(box.dataset.enables || "");
    if (target) target.disabled = !box.checked;
  };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[type=checkbox][data-enables]").forEach(sync);
  });
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box instanceof HTMLInputElement && box.dataset.enables) sync(box);
  });
})();
