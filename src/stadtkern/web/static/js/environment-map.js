// The map of measuring places (portal) and devices (console) over the base map (base-map.js).
// The town (data-town) and the places (data-places) each come from a URL or from "#id", a
// JSON block the page embeds: the console does, so that one read serves the table and the
// map and the map starts without waiting for a request. The table on the page has
// the same data. Readings stay here, not in MapLibre's source: its worker then parses only
// points, and live-map.js can change values without handing the whole source over again.
import { Popup } from "/static/web/vendor/maplibre-gl.mjs";
import { baseMap, load } from "/static/web/js/base-map.js";

const element = document.querySelector(".map[data-town]");

function geojson(source) {
  if (source.startsWith("#")) return JSON.parse(document.querySelector(source).textContent);
  return load(source);
}

function readingText(reading) {
  return reading.text ?? `${reading.value} ${reading.unit}`;
}

async function show() {
  const [town, collection] = await Promise.all([geojson(element.dataset.town), geojson(element.dataset.places)]);
  const readings = new globalThis.Map();
  for (const feature of collection.features) {
    readings.set(feature.id, feature.properties.readings || []);
    delete feature.properties.readings;
  }
  const map = await baseMap(element, town, town.features.length ? null : collection);
  map.addSource("places", { type: "geojson", data: collection });
  map.addLayer({
    id: "places",
    type: "circle",
    source: "places",
    paint: {
      "circle-radius": ["case", ["boolean", ["feature-state", "fresh"], false], 7, 5],
      "circle-color": ["case", ["boolean", ["feature-state", "fresh"], false], "#b45309", "#0b4f8a"],
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 1.5,
    },
  });
  map.on("click", "places", (event) => {
    const feature = event.features[0];
    const popup = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = feature.properties.name;
    popup.append(title);
    for (const reading of readings.get(feature.id) || []) {
      const line = document.createElement("div");
      line.textContent = `${reading.name}: ${readingText(reading)}`;
      popup.append(line);
    }
    new Popup().setLngLat(feature.geometry.coordinates).setDOMContent(popup).addTo(map);
  });
  await new Promise((resolve) => map.once("idle", resolve));
  element.dataset.ready = "true"; // rendered with every source loaded: the benchmark waits for it
  return { map, readings };
}

// The shown map and each place's readings by feature id (null: no map on this page).
export const shown = element
  ? show().catch((error) => {
      element.hidden = true; // the caption and the table below still give every value
      console.warn("the map could not be shown:", error);
      return null;
    })
  : Promise.resolve(null);
