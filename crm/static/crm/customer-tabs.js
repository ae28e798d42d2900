/* The 360 page's tabs (History, Offers, Visits, Wish list, Carts). Each tab is a link to its own
   address, so the page works without scripts; htmx loads a tab's panel in place. This script
   adds the keyboard behaviour of a tab list: one tab stop, arrow keys, Home and End move between
   the tabs, Enter or Space opens the focused one. No inline scripts: the pages are served under
   a Content-Security-Policy without 'unsafe-inline'. */
(() => {
  "use strict";

  const tabsOf = (list) => Array.from(list.querySelectorAll("[role=tab]"));

  // Only the selected tab is in the Tab order; the arrow keys reach the others.
  const initTabList = (list) => {
    tabsOf(list).forEach((tab) => {
      tab.setAttribute("tabindex", tab.getAttribute("aria-selected") === "true" ? "0" : "-1");
    });
  };
  const initAll = () => document.querySelectorAll("[data-tablist]").forEach(initTabList);

  const select = (tab) => {
    const list = tab.closest("[data-tablist]");
    if (!list) return;
    tabsOf(list).forEach((other) => {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.setAttribute("tabindex", selected ? "0" : "-1");
      other.classList.toggle("active", selected);
    });
    const panel = document.getElementById(tab.getAttribute("aria-controls") || "");
    if (panel) panel.setAttribute("aria-labelledby", tab.id);
  };

  document.addEventListener("keydown", (event) => {
    const tab = event.target;
    if (!(tab instanceof HTMLElement) || tab.getAttribute("role") !== "tab") return;
    const list = tab.closest("[data-tablist]");
    if (!list || event.altKey || event.ctrlKey || event.metaKey) return;
    const tabs = tabsOf(list);
    const index = tabs.indexOf(tab);
    let next = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") next = tabs[(index + 1) % tabs.length];
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = tabs[(index - 1 + tabs.length) % tabs.length];
    else if (event.key === "Home") next = tabs[0];
    else if (event.key === "End") next = tabs[tabs.length - 1];
    else if (event.key === " ") {
      // A link opens on Enter by itself; a tab opens on Space too.
      event.preventDefault();
      tab.click();
      return;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  // The tab that asked for its panel becomes the selected one as the panel loads.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail && event.detail.elt;
    if (elt instanceof HTMLElement && elt.getAttribute("role") === "tab") select(elt);
  });
  // If the panel cannot be loaded in place, open the tab's own page instead.
  document.addEventListener("htmx:responseError", (event) => {
    const elt = event.detail && event.detail.elt;
    if (elt instanceof HTMLAnchorElement && elt.getAttribute("role") === "tab") window.location.assign(elt.href);
  });

  document.addEventListener("DOMContentLoaded", initAll);
  document.addEventListener("htmx:historyRestore", initAll);
  if (document.readyState !== "loading") initAll();
})();
