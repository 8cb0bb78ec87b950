// Keeps a part of a page current: every element with data-refresh is replaced by what its
// URL answers, every data-refresh-seconds. The element is an aria-live region, so screen
// readers hear what changed; a failed fetch keeps the last state and tries again.
for (const element of document.querySelectorAll("[data-refresh]")) {
  const seconds = Number(element.dataset.refreshSeconds || "5");
  const refresh = async () => {
    try {
      const answer = await fetch(element.dataset.refresh, { headers: { Accept: "text/html" } });
      if (answer.ok) {
        const html = await answer.text();
        if (html !== element.innerHTML) element.innerHTML = html;
      }
    } finally {
      setTimeout(refresh, seconds * 1000);
    }
  };
  setTimeout(refresh, seconds * 1000);
}
