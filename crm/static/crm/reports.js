/* The report dashboards: draws every <canvas data-chart="id"> with Chart.js from the JSON the
   page passed in <script type="application/json" id="id"> (json_script). No inline scripts. */
(() => {
  "use strict";

  const PALETTE = ["#2158c4", "#2f9e6e", "#e08a00", "#6f42c1", "#0d8ca0", "#c2185b", "#8a5a00", "#5d6878"];
  const TONES = {
    good: "#2f9e6e",
    fair: "#93cfae",
    warn: "#e0a100",
    bad: "#c62828",
    other: "#7b61c9",
    muted: "#aab4c3",
    light: "#8fb0ea",
    brand: "#2158c4",
  };
  const GRID = "#edf0f4";
  const TEXT = "#5d6878";
  const ROW_HEIGHT = 30; // px per bar of a horizontal chart

  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
  const day = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });
  const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

  const colour = (tones, index) => TONES[tones[index]] || PALETTE[index % PALETTE.length];

  const datasets = (data) => {
    const doughnut = data.kind === "doughnut";
    const line = data.kind === "line";
    return data.series.map((series, index) => {
      const own = colour(data.tones, index);
      return {
        label: series.label,
        data: series.values,
        backgroundColor: doughnut
          ? data.labels.map((_, at) => colour(data.tones, at))
          : line
            ? `${own}33`
            : own,
        borderColor: doughnut ? "#fff" : own,
        borderWidth: doughnut ? 2 : line ? 2 : 0,
        borderRadius: data.kind === "bar" ? 3 : 0,
        maxBarThickness: 36,
        fill: line && data.stacked,
        tension: 0.25,
        pointRadius: line && data.labels.length > 45 ? 0 : 2,
        spanGaps: false,
      };
    });
  };

  const options = (data) => {
    const unit = data.unit ? ` ${data.unit}` : "";
    const tooltip = {
      callbacks: {
        label: (item) => {
          const value = item.parsed && typeof item.parsed === "object"
            ? (data.horizontal ? item.parsed.x : item.parsed.y)
            : item.parsed;
          return `${item.dataset.label}: ${value === null ? "–" : number.format(value)}${unit}`;
        },
      },
    };
    const shared = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 300 },
      plugins: {
        legend: {
          display: data.kind === "doughnut" || data.series.length > 1,
          position: data.kind === "doughnut" ? "right" : "bottom",
          labels: { boxWidth: 12, color: TEXT },
        },
        tooltip,
      },
    };
    if (data.kind === "doughnut") return { ...shared, cutout: "58%" };
    const valueAxis = {
      beginAtZero: true,
      stacked: data.stacked,
      grid: { color: GRID },
      ticks: { color: TEXT, precision: unit ? undefined : 0, callback: (value) => `${number.format(value)}${unit}` },
    };
    const many = data.labels.length > 12;
    const labelAxis = {
      stacked: data.stacked,
      grid: { display: false },
      ticks: {
        color: TEXT,
        // A few categories are all shown, tilted if need be; a long run of days is thinned out.
        autoSkip: many,
        maxRotation: many || data.horizontal ? 0 : 40,
        callback(value) {
          const label = this.getLabelForValue(value);
          return ISO_DAY.test(label) ? day.format(new Date(`${label}T12:00:00`)) : label;
        },
      },
    };
    return {
      ...shared,
      indexAxis: data.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      scales: data.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    };
  };

  const draw = (canvas) => {
    const source = document.getElementById(canvas.dataset.chart || "");
    if (!source || typeof window.Chart !== "function") return;
    const data = JSON.parse(source.textContent);
    const box = canvas.parentElement;
    if (data.horizontal && box) {
      // One row per bar, so that long lists of stores or queues stay readable.
      const legend = data.series.length > 1 ? 40 : 0;
      box.style.height = `${Math.max(220, data.labels.length * ROW_HEIGHT * Math.min(data.series.length, 2) + 48 + legend)}px`;
    }
    canvas.chart = new window.Chart(canvas, {
      type: data.kind,
      data: { labels: data.labels, datasets: datasets(data) },
      options: options(data),
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
