// The environment map: the town's own boundary and districts as an offline base layer (or a
// configured style), the measuring places on top. The table on the page has the same data.
import { Map, NavigationControl, Popup } from "/static/web/vendor/maplibre-gl.mjs";

const element = document.querySelector(".map[data-town]");

async function load(url) {
  const answer = await fetch(url, { headers: { Accept: "application/geo+json" } });
  if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
  return answer.json();
}

function bounds(collection) {
  let box = null;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === "number") {
      const [x, y] = coordinates;
      box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)] : [x, y, x, y];
      return;
    }
    coordinates.forEach(visit);
  };
  collection.features.forEach((feature) => visit(feature.geometry.coordinates));
  return box;
}

async function show() {
  const [town, places] = await Promise.all([load(element.dataset.town), load(element.dataset.places)]);
  const style = {
    version: 8,
    sources: {
      town: { type: "geojson", data: town },
      places: { type: "geojson", data: places },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f4f6" } },
      { id: "districts", type: "fill", source: "town", filter: ["==", ["get", "role"], "district"], paint: { "fill-color": "#e5eef7", "fill-outline-color": "#6b7280" } },
      { id: "boundary", type: "line", source: "town", filter: ["==", ["get", "role"], "town"], paint: { "line-color": "#0b4f8a", "line-width": 2 } },
      { id: "places", type: "circle", source: "places", paint: { "circle-radius": 5, "circle-color": "#0b4f8a", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } },
    ],
  };
  const box = bounds(town.features.length ? town : places);
  const map = new Map({
    container: element,
    style,
    bounds: box ? [[box[0], box[1]], [box[2], box[3]]] : undefined,
    fitBoundsOptions: { padding: 16 },
    attributionControl: false,
  });
  map.addControl(new NavigationControl({ showCompass: false }));
  // Rendered with every source loaded: the benchmark waits for this mark.
  map.once("idle", () => {
    element.dataset.ready = "true";
  });
  map.on("click", "places", (event) => {
    const feature = event.features[0];
    const popup = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = feature.properties.name;
    popup.append(title);
    for (const reading of JSON.parse(feature.properties.readings)) {
      const line = document.createElement("div");
      line.textContent = `${reading.name}: ${reading.value} ${reading.unit}`;
      popup.append(line);
    }
    new Popup().setLngLat(feature.geometry.coordinates).setDOMContent(popup).addTo(map);
  });
}

if (element) {
  show().catch((error) => {
    element.hidden = true; // the caption and the table below still give every value
    console.warn("the map could not be shown:", error);
  });
}
