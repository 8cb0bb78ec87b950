// A Datastream's chart: average with the min-max band per interval, drawn by uPlot from the
// series the server aggregates. The table on the page has the same values. Dragging across
// the chart zooms into that span (uPlot's cursor), a double click zooms out; keyboard users
// choose the range with the page's links, which ask the server for another aggregation.
const element = document.getElementById("chart");

async function draw() {
  const answer = await fetch(element.dataset.series, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`${element.dataset.series}: ${answer.status}`);
  const body = await answer.json();
  const rows = body.value;
  const times = rows.map((row) => Date.parse(row.start) / 1000);
  const label = body.unit ? `${body.name} (${body.unit})` : body.name;
  const options = {
    width: element.clientWidth || 600,
    height: 280,
    series: [
      {},
      { label: `${label}: ${element.dataset.average || "avg"}`, stroke: "#0b4f8a", width: 2 },
      { label: element.dataset.minimum || "min", stroke: "#6b7280", dash: [4, 4] },
      { label: element.dataset.maximum || "max", stroke: "#6b7280", dash: [4, 4] },
    ],
    cursor: { drag: { x: true, y: false, setScale: true } },
    // The span shown (after a zoom) is written on the element, for tests and tools.
    hooks: {
      setScale: [
        (chart, key) => {
          if (key !== "x") return;
          element.dataset.shownFrom = String(chart.scales.x.min);
          element.dataset.shownUntil = String(chart.scales.x.max);
        },
      ],
    },
    axes: [{}, { size: 60 }],
    // Times on the axis in the town's time zone, as in the table below.
    tzDate: (seconds) => window.uPlot.tzDate(new Date(seconds * 1000), element.dataset.timezone),
  };
  const data = [times, rows.map((r) => r.avg), rows.map((r) => r.min), rows.map((r) => r.max)];
  const chart = new window.uPlot(options, data, element);
  new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: 280 })).observe(element);
}

if (element && window.uPlot) {
  draw().catch((error) => {
    element.hidden = true; // the table below still gives every value
    console.warn("the chart could not be drawn:", error);
  });
}
