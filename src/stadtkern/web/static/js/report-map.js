// The defect pages' maps, over the base map (base-map.js). Every map only helps: the form's
// latitude, longitude and address fields, and the tables, hold the same facts.
// #report-map (the citizen's form): a click marks the place and fills latitude and longitude;
//   typing coordinates moves the mark. "Use my position" asks the browser (shown only where
//   geolocation exists). A photo over the limit is named before the form is sent.
// #report-point (a report's page): the report's place.
// #reports-map (the list): every listed report with a point.
import { baseMap, load } from "/static/web/js/base-map.js";

const MARK = { "circle-radius": 8, "circle-color": "#b45309", "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 };

function point(lon, lat) {
  return { type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} }] };
}

function number(input) {
  const value = Number.parseFloat(input.value.replace(",", "."));
  return Number.isFinite(value) ? value : null;
}

function ready(map) {
  map.once("idle", () => {
    map.getContainer().dataset.ready = "true";
  });
}

function locateButton(lat, lon, moved) {
  const button = document.getElementById("locate");
  const status = document.getElementById("locate-status");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = button.dataset.asking || "…";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = `${lat.value}, ${lon.value}`;
        moved();
      },
      (error) => {
        status.textContent = error.message;
      },
      { enableHighAccuracy: true, timeout: 15000 },
    );
  });
}

function photoLimit() {
  const input = document.getElementById("photo");
  if (!input) return;
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    const tooLarge = file && file.size > Number(input.dataset.maxBytes);
    input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
    if (tooLarge) input.reportValidity();
  });
}

async function formMap(element) {
  const lat = document.getElementById("lat");
  const lon = document.getElementById("long");
  let map = null;
  const moved = () => {
    const [y, x] = [number(lat), number(lon)];
    if (!map || y === null || x === null) return;
    map.getSource("mark").setData(point(x, y));
    if (!map.getBounds().contains([x, y])) map.easeTo({ center: [x, y] });
  };
  locateButton(lat, lon, moved);
  const town = await load(element.dataset.town);
  map = await baseMap(element, town);
  map.addSource("mark", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "mark", type: "circle", source: "mark", paint: MARK });
  map.getCanvas().style.cursor = "crosshair";
  map.on("click", (event) => {
    lat.value = event.lngLat.lat.toFixed(6);
    lon.value = event.lngLat.lng.toFixed(6);
    moved();
  });
  lat.addEventListener("change", moved);
  lon.addEventListener("change", moved);
  moved();
  ready(map);
}

async function pointMap(element) {
  const here = point(Number(element.dataset.lon), Number(element.dataset.lat));
  const map = await baseMap(element, await load(element.dataset.town), here);
  map.setZoom(Math.min(map.getZoom(), 16));
  map.addSource("mark", { type: "geojson", data: here });
  map.addLayer({ id: "mark", type: "circle", source: "mark", paint: MARK });
  ready(map);
}

async function listMap(element) {
  const [town, reports] = await Promise.all([load(element.dataset.town), load(element.dataset.points)]);
  const map = await baseMap(element, town);
  map.addSource("reports", { type: "geojson", data: reports });
  map.addLayer({ id: "reports", type: "circle", source: "reports", paint: { ...MARK, "circle-radius": 6 } });
  map.on("click", "reports", (event) => {
    window.location.assign(`${window.location.pathname.replace(/\/$/, "")}/${event.features[0].properties.id}`);
  });
  ready(map);
}

photoLimit();
for (const [id, show] of [["report-map", formMap], ["report-point", pointMap], ["reports-map", listMap]]) {
  const element = document.getElementById(id);
  if (!element) continue;
  show(element).catch((error) => {
    element.closest("figure").hidden = true; // the fields and tables still give every fact
    console.warn("the map could not be shown:", error);
  });
}
