// Progressive enhancement only: every page works without this script.
// Times are written in UTC; show them in the reader's time zone instead.
for (const t of document.querySelectorAll("time[datetime]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d)) {
    t.title = t.textContent;
    t.textContent = d.toLocaleString();
  }
}
