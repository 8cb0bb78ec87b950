// Live values on the console's overview: the page's [data-live] element names the stream
// (Server-Sent Events, /{town}/console/live). Each event changes the table's cells and the
// map's readings in place. Only the connection state is announced (a polite status); the
// values themselves change silently, so a screen reader is not talked over. The stream is
// closed while the tab is hidden and reopened from the last event id when it shows again.
// It opens only after the map is drawn and a moment more: the page's own loading goes first,
// and what changed meanwhile comes with the stream's catch-up from the page's cursor.
import { shown } from "/static/web/js/environment-map.js";

const FRESH_MS = 4000; // how long a changed cell and map point stay marked
const START_MS = 1500; // after the map is ready
const LOST_MS = 5000;
const status = document.querySelector("[data-live]");

function start() {
  const state = status.querySelector(".live-state");
  const changed = status.querySelector(".live-changed");
  const cells = new Map();
  for (const cell of document.querySelectorAll("[data-stream]")) cells.set(Number(cell.dataset.stream), cell);
  const times = new Map();
  for (const time of document.querySelectorAll("time[data-thing]")) times.set(Number(time.dataset.thing), time);
  let parts = null;
  let source = null;
  let lastId = null;
  let delay = 1000;
  let lost = null;

  const say = (text) => {
    if (state.textContent !== text) state.textContent = text;
  };

  const mark = (element) => {
    element.classList.add("live-fresh");
    setTimeout(() => element.classList.remove("live-fresh"), FRESH_MS);
  };

  const apply = (values) => {
    for (const value of values) {
      const cell = cells.get(value.datastream);
      if (cell) {
        cell.textContent = value.text;
        mark(cell);
      }
      const time = times.get(value.thing);
      if (time && !(Date.parse(time.dateTime) > Date.parse(value.at))) {
        time.dateTime = value.at;
        time.textContent = value.when;
      }
      if (parts) {
        const reading = (parts.readings.get(value.thing) || []).find((r) => r.id === value.datastream);
        if (reading) reading.text = value.text;
        const feature = { source: "places", id: value.thing };
        parts.map.setFeatureState(feature, { fresh: true });
        setTimeout(() => parts.map.setFeatureState(feature, { fresh: false }), FRESH_MS);
      }
    }
    if (values.length) changed.textContent = `${status.dataset.textChanged} ${values[values.length - 1].when}`;
  };

  const connect = () => {
    const url = new URL(status.dataset.live, window.location.href);
    if (lastId !== null) url.searchParams.set("after", lastId);
    source = new EventSource(url);
    source.addEventListener("open", () => {
      delay = 1000;
      clearTimeout(lost);
      say(status.dataset.textLive);
    });
    source.addEventListener("values", (event) => {
      lastId = event.lastEventId || lastId;
      apply(JSON.parse(event.data).values);
    });
    source.addEventListener("error", () => {
      // A stream ends every few minutes and the browser reconnects at once: only a gap that
      // lasts is announced.
      clearTimeout(lost);
      lost = setTimeout(() => say(status.dataset.textLost), LOST_MS);
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects itself
      source = null;
      setTimeout(() => document.hidden || source || connect(), delay); // e.g. after a 401
      delay = Math.min(delay * 2, 60000);
    });
  };

  document.addEventListener("visibilitychange", () => {
    if (document.hidden && source) {
      source.close();
      source = null;
      clearTimeout(lost);
      say(status.dataset.textPaused);
    } else if (!document.hidden && !source) {
      connect();
    }
  });
  status.hidden = false;
  shown.then((found) => {
    parts = found;
    setTimeout(() => (document.hidden ? say(status.dataset.textPaused) : source || connect()), START_MS);
  });
}

if (status) start();
