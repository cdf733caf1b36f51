/* What the pages do in the browser beyond the theme: tables that fit the screen, and search terms
   highlighted whole. Without JavaScript the pages still read in full; tables then scroll sideways. */
(() => {
  "use strict";

  /* --- Tables ------------------------------------------------------------------------------------
     Each cell gets its column's name (data-label) and its content one element to hold it, and a cell
     that holds just a date is marked so that the date stays on one line (data-kind="date"). A table
     that does not fit its column, with every identifier whole, is laid out as one card per row, each
     value beside or under its column's name (data-layout="stacked", see extra.css). */

  const tables = () => document.querySelectorAll("article table:not([class])");
  const DATE = /^\d{4}-\d{2}-\d{2}$/;

  function label(table) {
    const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, column) => {
        if (DATE.test(cell.textContent.trim())) cell.dataset.kind = "date";
        if (!names[column] || cell.dataset.label !== undefined) return;
        cell.dataset.label = names[column];
        const value = document.createElement("span");
        value.className = "rb-cell";
        value.append(...cell.childNodes);
        cell.append(value);
      });
    }
  }

  function fit(table) {
    delete table.dataset.layout;
    // The theme caps a table at the column's width; what does not fit then overflows the table itself.
    const box = table.closest(".md-typeset__scrollwrap") || table.parentElement;
    if (table.scrollWidth > table.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1) {
      table.dataset.layout = "stacked";
    }
  }

  function fitAll() {
    for (const table of tables()) fit(table);
  }

  let pending = 0;
  function refit() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(fitAll);
  }

  /* --- Search highlighting -----------------------------------------------------------------------
     The theme's search breaks a Chinese query at the first piece of it that its index holds, and
     links every result with that piece as the term to highlight: 充值 becomes `?h=充`, and the page
     then marks every 充. The result links get the words of the query instead, each kept whole. */

  const HAN = /\p{Script=Han}/u;

  function words(query) {
    const out = query
      .replace(/["*+~^:]/g, " ")
      .split(/\s+/)
      .filter((word) => word && !word.startsWith("-"));
    return [...new Set(out)];
  }

  function highlightWholeWords(list) {
    const input = document.querySelector("input.md-search__input");
    if (!input || !HAN.test(input.value)) return;
    const terms = words(input.value).join(" ");
    for (const link of list.querySelectorAll("a.md-search-result__link")) {
      const url = new URL(link.href);
      if (!url.searchParams.has("h") || url.searchParams.get("h") === terms) continue;
      url.searchParams.set("h", terms);
      link.href = url.toString();
    }
  }

  function watchSearch() {
    const list = document.querySelector(".md-search-result__list");
    if (!list) return;
    new MutationObserver(() => highlightWholeWords(list)).observe(list, { childList: true, subtree: true });
  }

  function setup() {
    for (const table of tables()) label(table);
    fitAll();
    watchSearch();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
  addEventListener("resize", refit);
  /* Fonts arriving late change the widths. */
  if (document.fonts) document.fonts.ready.then(refit);
})();
