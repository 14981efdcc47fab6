// report.html behaviour: filter and sort the rows already on the page. Rows are never built from data here
// (no innerHTML), so values from the user's files cannot become markup; without this script the page is
// complete, only static.
(function () {
  "use strict";
  const root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  const number = (n) => n.toLocaleString("en-GB");

  function debounce(fn, ms) {
    let timer = 0;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // One filterable, sortable table, driven by the form whose data-table names it. Select controls
  // match a row's data-<key> attribute exactly (one of its words, for a select marked data-words); the search box
  // matches every word anywhere in the row.
  function enhance(form) {
    const table = document.getElementById(form.dataset.table);
    if (!table) return null;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const controls = Array.from(form.querySelectorAll("[data-key]"));
    const status = document.getElementById(form.dataset.status);
    const shown = status && status.querySelector("[data-shown]");
    const empty = document.getElementById(form.dataset.empty);
    const haystack = new Map();
    const text = (row) => {
      if (!haystack.has(row)) haystack.set(row, (row.textContent + " " + (row.dataset.input || "")).toLowerCase());
      return haystack.get(row);
    };

    function apply() {
      const wanted = [];
      let words = [];
      for (const control of controls) {
        const value = control.value.trim();
        if (!value) continue;
        // One leading apostrophe off each word: issues.csv and results.csv write ids as '2600593840105, to keep a
        // spreadsheet from turning them into numbers, and people paste them from there.
        if (control.dataset.key === "q") {
          words = value.toLowerCase().split(/\s+/).map((word) => word.replace(/^'/, ""));
        } else wanted.push([control.dataset.key, control.value, control.hasAttribute("data-words")]);
      }
      let count = 0;
      for (const row of rows) {
        const match =
          wanted.every(([key, value, anyWord]) => {
            const have = row.getAttribute("data-" + key) || "";
            return anyWord ? have.split(" ").includes(value) : have === value;
          }) &&
          words.every((word) => text(row).includes(word));
        row.hidden = !match;
        if (match) count += 1;
      }
      if (shown) shown.textContent = number(count);
      if (empty) empty.hidden = count !== 0;
      form.classList.toggle("filtered", wanted.length > 0 || words.length > 0);
    }

    function clear() {
      for (const control of controls) control.value = "";
      apply();
    }

    form.addEventListener("submit", (event) => event.preventDefault());
    for (const control of controls) {
      if (control.dataset.key === "q") control.addEventListener("input", debounce(apply, 120));
      else control.addEventListener("change", apply);
    }
    const clearButton = form.querySelector("[data-clear]");
    if (clearButton) clearButton.addEventListener("click", clear);
    if (empty) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "button-secondary";
      again.textContent = "Clear filters";
      again.addEventListener("click", () => {
        clear();
        form.querySelector("[data-key]").focus();
      });
      empty.append(" ", again);
    }

    // Sorting: each sortable header becomes a button; "num" columns sort by data-sort-value as a number. The
    // caption's [data-order] says the order shown, as a screen reader names the table by it (review181 F3), and a
    // button beside "Clear filters" puts the rows back in the page's own order, which no column gives. That button
    // keeps its place while there is no sort to undo, unseen (report.css: .idle): made to appear by the first sort,
    // it pushed the table down under the pointer, so the second click on a heading, to reverse the order, missed it,
    // or in the card view sorted by the heading that had moved there (review186 F1).
    const headers = Array.from(table.tHead.rows[0].cells);
    const order = table.caption && table.caption.querySelector("[data-order]");
    const pageOrder = order ? order.textContent : "";
    const pageSort = headers.map((th) => th.getAttribute("aria-sort"));
    const sortable = headers.filter((th) => th.dataset.sort);
    let restore = null;

    function showOrder(words) {
      if (order) order.textContent = words;
      if (restore) restore.classList.toggle("idle", words === pageOrder);
    }

    function sortBy(th, index, kind, direction) {
      for (const other of headers) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", direction);
      const collator = new Intl.Collator("en-GB", { numeric: true, sensitivity: "base" });
      const key = (row) => {
        const cell = row.cells[index];
        const raw = cell.dataset.sortValue ?? cell.textContent.trim();
        if (kind !== "num") return raw;
        const value = Number.parseFloat(raw);
        return Number.isNaN(value) ? Infinity : value;
      };
      const compare = kind === "num" ? (x, y) => x - y : collator.compare;
      const sign = direction === "ascending" ? 1 : -1;
      // Keys are read once per row, not once per comparison; ties keep file order (the sort is stable).
      const sorted = rows
        .map((row) => [key(row), row])
        .sort((a, b) => sign * compare(a[0], b[0]))
        .map((pair) => pair[1]);
      // Empty the body at once, then refill it: moving rows one by one within a large body is quadratic.
      body.textContent = "";
      body.append(...sorted);
      const alphabet = direction === "ascending" ? "A to Z" : "Z to A";
      const words = th.dataset[direction] || (kind === "num" ? direction : alphabet);
      showOrder("sorted by " + th.dataset.heading + ", " + words);
    }

    headers.forEach((th, index) => {
      const kind = th.dataset.sort;
      if (!kind) return;
      // Printed, the heading is this copy of its text (report.css): Chromium leaves a button out of the header row
      // it repeats on each sheet, so every sheet after the first had a blank one.
      th.dataset.heading = th.textContent.trim();
      const button = document.createElement("button");
      button.type = "button";
      button.append(...th.childNodes);
      th.append(button);
      button.addEventListener("click", () => {
        sortBy(th, index, kind, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      });
    });
    if (sortable.length) {
      // On a narrow screen the header row is a visible "Sort by" row of these buttons (report.css), not a 1 px one
      // whose buttons took the focus out of sight (review181 F1).
      table.classList.add("sortable");
      const place = clearButton ? clearButton.parentNode : form;
      restore = document.createElement("button");
      restore.type = "button";
      restore.className = "button-secondary idle";
      restore.textContent = "Original order";
      restore.setAttribute("data-restore-order", "");
      restore.addEventListener("click", () => {
        headers.forEach((th, index) => {
          if (pageSort[index]) th.setAttribute("aria-sort", pageSort[index]);
          else th.removeAttribute("aria-sort");
        });
        body.textContent = "";
        body.append(...rows);
        showOrder(pageOrder);
        sortable[0].querySelector("button").focus(); // this button goes unseen: the focus stays with the sorting
      });
      place.append(" ", restore);
    }

    apply();
    return { form, apply, clear, controls };
  }

  const tables = Array.from(document.querySelectorAll("form.filters")).map(enhance).filter(Boolean);

  // A table's scroller is a named region and a tab stop (to scroll it with the arrow keys) only while it scrolls:
  // on a wide screen, and as the cards of a narrow one, it does not, and was an empty stop (review181 F4).
  const scrollers = Array.from(document.querySelectorAll(".table-wrap[role=region]")).map((wrap) => {
    const label = wrap.getAttribute("aria-label");
    return () => {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls === wrap.hasAttribute("role")) return;
      if (scrolls) {
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label);
        wrap.tabIndex = 0;
      } else {
        for (const name of ["role", "aria-label", "tabindex"]) wrap.removeAttribute(name);
      }
    };
  });
  const fitScrollers = () => scrollers.forEach((fit) => fit());
  fitScrollers();
  if (typeof ResizeObserver === "function") {
    const watch = new ResizeObserver(fitScrollers);
    for (const wrap of document.querySelectorAll(".table-wrap")) watch.observe(wrap);
  } else window.addEventListener("resize", debounce(fitScrollers, 100));
  const issues = tables.find((t) => t.form.dataset.table === "issue-table");

  // Chart names are links to the issues: following one shows only that field's or rule's issues.
  for (const link of document.querySelectorAll("a[data-filter]")) {
    // Without this script a chart link only goes to the table, and its title says so; with it, it filters.
    if (issues && link.title) link.title = "Show only these issues";
    link.addEventListener("click", (event) => {
      if (!issues) return;
      const control = issues.controls.find((c) => c.dataset.key === link.dataset.filter);
      if (!control) return;
      event.preventDefault();
      for (const other of issues.controls) other.value = "";
      control.value = link.dataset.value;
      issues.apply();
      issues.form.scrollIntoView({ block: "start" });
      control.focus({ preventScroll: true });
    });
  }
})();
