// The warning console's maps, over the base map (base-map.js).
// Compose form (#zones-map): the town's zones; a click on a zone ticks or clears its checkbox,
// and ticking a checkbox marks the zone, so list and map always agree (the list is the way
// for keyboards and screen readers). After "Preview", the area and the lanterns it reaches.
// Alert page (#delivery-map): every lantern with its answer, drawn with the shapes and
// colours of the legend beside it, fetched again whenever the delivery list has refreshed.
import { Popup } from "/static/web/vendor/maplibre-gl.mjs";
import { baseMap, load } from "/static/web/js/base-map.js";

const ICON = 20; // the legend's SVG viewBox, drawn at twice the size for sharp icons

function readyMark(map) {
  map.once("idle", () => {
    map.getContainer().dataset.ready = "true";
  });
}

async function zonesMap(element) {
  const [town, zones] = await Promise.all([load(element.dataset.town), load(element.dataset.zones)]);
  const map = await baseMap(element, town, zones);
  const boxes = new window.Map([...document.querySelectorAll("input[name=zone]")].map((box) => [box.value, box]));
  map.addSource("zones", { type: "geojson", data: zones, promoteId: "key" });
  const chosen = ["boolean", ["feature-state", "chosen"], false];
  map.addLayer({ id: "zones", type: "fill", source: "zones", paint: { "fill-color": ["case", chosen, "#b45309", "#9ca3af"], "fill-opacity": ["case", chosen, 0.45, 0.15] } });
  map.addLayer({ id: "zone-lines", type: "line", source: "zones", paint: { "line-color": ["case", chosen, "#7c2d12", "#4b5563"], "line-width": ["case", chosen, 3, 1] } });
  const mark = (box) => map.setFeatureState({ source: "zones", id: box.value }, { chosen: box.checked });
  boxes.forEach((box) => {
    mark(box);
    box.addEventListener("change", () => mark(box));
  });
  map.on("click", "zones", (event) => {
    const box = boxes.get(event.features[0].properties.key);
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });
  map.on("mouseenter", "zones", () => (map.getCanvas().style.cursor = "pointer"));
  map.on("mouseleave", "zones", () => (map.getCanvas().style.cursor = ""));
  const preview = document.getElementById("preview-map");
  if (preview) {
    map.addSource("preview", { type: "geojson", data: JSON.parse(preview.textContent) });
    map.addLayer({ id: "preview-area", type: "line", source: "preview", filter: ["==", ["get", "kind"], "area"], paint: { "line-color": "#111827", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({ id: "preview-lanterns", type: "circle", source: "preview", filter: ["==", ["get", "kind"], "lantern"], paint: { "circle-radius": 5, "circle-color": ["case", ["==", ["get", "status"], "ready"], "#15803d", "#6b7280"], "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
  }
  readyMark(map);
}

// The legend's shapes (SVG paths with fill and stroke) drawn as map icons, one per answer.
function legendIcons(map, legend) {
  for (const item of legend.querySelectorAll("[data-answer]")) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = ICON * 2;
    const context = canvas.getContext("2d");
    context.scale(2, 2);
    for (const shape of item.querySelectorAll("path")) {
      const path = new Path2D(shape.getAttribute("d"));
      const fill = shape.getAttribute("fill");
      const stroke = shape.getAttribute("stroke");
      context.lineJoin = "round";
      context.lineCap = "round";
      if (fill && fill !== "none") {
        context.fillStyle = fill;
        context.fill(path);
      }
      if (stroke) {
        context.strokeStyle = stroke;
        context.lineWidth = Number(shape.getAttribute("stroke-width") || "1");
        context.stroke(path);
      }
    }
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    map.addImage(`answer-${item.dataset.answer}`, image, { pixelRatio: 2 });
  }
}

async function deliveryMap(element) {
  const url = element.dataset.lanterns;
  const [town, lanterns] = await Promise.all([load(element.dataset.town), load(url)]);
  const map = await baseMap(element, town, lanterns);
  legendIcons(map, document.getElementById(element.dataset.legend));
  map.addSource("lanterns", { type: "geojson", data: lanterns });
  map.addLayer({ id: "lanterns", type: "symbol", source: "lanterns", layout: { "icon-image": ["concat", "answer-", ["get", "answer"]], "icon-allow-overlap": true, "icon-ignore-placement": true } });
  map.on("click", "lanterns", (event) => {
    const feature = event.features[0];
    const text = document.createElement("div");
    text.textContent = `${feature.properties.name}: ${feature.properties.state}`;
    new Popup().setLngLat(feature.geometry.coordinates).setDOMContent(text).addTo(map);
  });
  readyMark(map);
  // The delivery list is replaced by live-fragment.js when it changed; so is the map then.
  const list = document.getElementById(element.dataset.follows);
  let pending = false;
  new MutationObserver(async () => {
    if (pending) return;
    pending = true;
    try {
      map.getSource("lanterns").setData(await load(url));
    } catch (error) {
      console.warn("the delivery map keeps its last state:", error);
    } finally {
      pending = false;
    }
  }).observe(list, { childList: true, subtree: true, characterData: true });
}

for (const [id, show] of [["zones-map", zonesMap], ["delivery-map", deliveryMap]]) {
  const element = document.getElementById(id);
  if (!element) continue;
  show(element).catch((error) => {
    element.closest("figure").hidden = true; // the list on the page still gives every fact
    console.warn("the map could not be shown:", error);
  });
}
