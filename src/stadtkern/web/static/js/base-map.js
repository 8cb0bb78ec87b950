// The base of every map: the configured production map (a MapLibre style such as
// basemap.de's, or raster tiles, named by the map element's data-base-style or
// data-base-tiles, which the page writes from the web settings), else an offline layer drawn
// from the town's own boundary and districts. The town's boundary is drawn on top of both.
import { Map, NavigationControl } from "/static/web/vendor/maplibre-gl.mjs";

export async function load(url) {
  const answer = await fetch(url, { headers: { Accept: "application/geo+json" } });
  if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
  return answer.json();
}

export function bounds(collection) {
  let box = null;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === "number") {
      const [x, y] = coordinates;
      box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)] : [x, y, x, y];
      return;
    }
    coordinates.forEach(visit);
  };
  collection.features.forEach((feature) => feature.geometry && visit(feature.geometry.coordinates));
  return box;
}

function baseStyle(element) {
  const { baseStyle: styleUrl, baseTiles: tiles, baseAttribution: attribution } = element.dataset;
  if (styleUrl) return styleUrl;
  const background = { id: "background", type: "background", paint: { "background-color": "#f3f4f6" } };
  if (!tiles) return { version: 8, sources: {}, layers: [background] };
  return {
    version: 8,
    sources: { base: { type: "raster", tiles: [tiles], tileSize: 256, attribution: attribution || "" } },
    layers: [background, { id: "base", type: "raster", source: "base" }],
  };
}

// A map in `element` over the base, fitted to `fit` (a FeatureCollection; default the town),
// resolved once its style has loaded so that callers can add their own sources and layers.
export async function baseMap(element, town, fit = null) {
  const production = Boolean(element.dataset.baseStyle || element.dataset.baseTiles);
  const box = bounds(fit && fit.features.length ? fit : town);
  const map = new Map({
    container: element,
    style: baseStyle(element),
    bounds: box ? [[box[0], box[1]], [box[2], box[3]]] : undefined,
    fitBoundsOptions: { padding: 16 },
    // A production map's licence asks for its attribution; the offline layer is our own.
    attributionControl: production ? { compact: true } : false,
  });
  map.addControl(new NavigationControl({ showCompass: false }));
  // A tile that cannot be fetched is no reason to fail the page: the lists hold the facts.
  map.on("error", (event) => console.warn("map:", event.error && event.error.message));
  await new Promise((resolve) => map.once("load", resolve));
  map.addSource("town", { type: "geojson", data: town });
  if (!production) {
    map.addLayer({ id: "districts", type: "fill", source: "town", filter: ["==", ["get", "role"], "district"], paint: { "fill-color": "#e5eef7", "fill-outline-color": "#6b7280" } });
  }
  map.addLayer({ id: "boundary", type: "line", source: "town", filter: ["==", ["get", "role"], "town"], paint: { "line-color": "#0b4f8a", "line-width": 2 } });
  return map;
}
