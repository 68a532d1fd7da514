// The report page's own script: draws every chart of the embedded data with uPlot (inlined
// before this script). It runs offline, touches no network and reads only the JSON block.
(() => {
  const data = JSON.parse(document.getElementById('lp-data').textContent);
  const FAULT_FILL = 'rgba(220, 38, 38, 0.13)';
  const FAULT_TEXT = 'rgba(75, 85, 99, 0.95)';
  const drawn = [];

  for (const figure of document.querySelectorAll('[data-chart]')) {
    const [section, index] = figure.dataset.chart.split(':');
    const chart = data.sections[section]?.[Number(index)];
    const target = figure.querySelector('.plot');
    try {
      const plot = chart.type === 'spectrum' ? spectrum(chart, target) : timeChart(chart, target);
      drawn.push({ id: chart.id, plot });
    } catch (error) {
      target.textContent = `This chart could not be drawn: ${error.message}`;
      console.error(`launchproof report: chart ${chart?.id} failed`, error);
    }
  }
  // Read by the browser test, and handy from the devtools console.
  window.__launchproofCharts = drawn;

  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const { plot } of drawn)
        plot.setSize({ width: widthOf(plot.root.parentElement), height: plot.height });
    }, 100);
  });

  function timeChart(chart, target) {
    const hasY2 = chart.series.some((s) => s.scale === 'y2');
    const opts = {
      width: widthOf(target),
      height: 260,
      scales: {
        x: { time: false },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
        ...(hasY2 ? { y2: { range: (_u, _min, max) => [0, niceMax(max)] } } : {}),
      },
      axes: [
        { label: 'seconds since start', values: (_u, splits) => splits.map((v) => `${v}s`) },
        { label: chart.yLabel, size: 60 },
        ...(hasY2
          ? [{ scale: 'y2', side: 1, label: chart.y2Label, grid: { show: false }, size: 60 }]
          : []),
      ],
      series: [
        { label: 'time', value: (_u, v) => (v == null ? '—' : `${v} s`) },
        ...chart.series.map((s, i) => lineSeries(s, i)),
      ],
      hooks: { drawClear: [shadeFaults], draw: [edgeFaults] },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    return new uPlot(opts, [chart.x, ...chart.series.map((s) => s.values)], target);

    function lineSeries(s, i) {
      return {
        label: s.label,
        stroke: s.color,
        width: s.width ?? (s.fill ? 1 : 2),
        scale: s.scale ?? 'y',
        ...(s.dash ? { dash: s.dash } : {}),
        ...(s.fill ? { fill: s.fill } : {}),
        points: { show: false },
        ...(chart.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
        value: (_u, v, _si, idx) => {
          const shown = s.raw && idx != null ? s.raw[idx] : v;
          return shown == null ? '—' : `${format(shown)} ${chart.series[i].unit}`;
        },
      };
    }
  }

  function spectrum(chart, target) {
    const opts = {
      width: widthOf(target),
      height: 320,
      scales: {
        x: { time: false, distr: 3, log: 10 },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      axes: [
        {
          label: 'percentile (log scale of 1/(1−p))',
          values: (_u, splits) => splits.map((v) => (isPowerOfTen(v) ? percentLabel(v) : '')),
        },
        { label: chart.yLabel, size: 60 },
      ],
      series: [
        { label: 'percentile', value: (_u, v) => (v == null ? '—' : percentValue(v)) },
        ...chart.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          spanGaps: true,
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : `${format(v)} ${s.unit}`),
        })),
      ],
      legend: { live: true },
    };
    return new uPlot(opts, [chart.x, ...chart.series.map((s) => s.values)], target);
  }

  function shadeFaults(u) {
    if (data.faultWindows.length === 0) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    for (const w of data.faultWindows) {
      const x0 = Math.max(left, u.valToPos(w.startSec, 'x', true));
      const x1 = Math.min(left + width, u.valToPos(w.endSec, 'x', true));
      if (!(x1 > x0)) continue;
      ctx.fillStyle = FAULT_FILL;
      ctx.fillRect(x0, top, x1 - x0, height);
      ctx.fillStyle = FAULT_TEXT;
      ctx.fillText(w.label, x0 + 4 * devicePixelRatio, top + 4 * devicePixelRatio, x1 - x0);
    }
    ctx.restore();
  }

  // Edges drawn over the series too, so a window stays visible behind opaque stacked fills.
  function edgeFaults(u) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.strokeStyle = FAULT_TEXT;
    ctx.lineWidth = devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    for (const w of data.faultWindows) {
      for (const sec of [w.startSec, w.endSec]) {
        const x = Math.round(u.valToPos(sec, 'x', true));
        if (x < left || x > left + width) continue;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width));
  }

  function niceMax(max) {
    if (!(max > 0)) return 1;
    const magnitude = 10 ** Math.floor(Math.log10(max));
    const steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    const step = steps.find((s) => s * magnitude >= max * 1.05) ?? 10;
    return step * magnitude;
  }

  function isPowerOfTen(v) {
    const exponent = Math.log10(v);
    return Math.abs(exponent - Math.round(exponent)) < 1e-9;
  }

  // 1/(1−p) back to p on the axis's powers of ten: 10 → 90%, 1000 → 99.9%.
  function percentLabel(inverse) {
    const k = Math.round(Math.log10(inverse));
    if (k <= 0) return '0%';
    if (k === 1) return '90%';
    return k === 2 ? '99%' : `99.${'9'.repeat(k - 2)}%`;
  }

  function percentValue(inverse) {
    return `${Number(((1 - 1 / inverse) * 100).toFixed(4))}%`;
  }

  function format(v) {
    if (Math.abs(v) >= 100) return v.toFixed(1);
    if (Math.abs(v) >= 1 || v === 0) return Number.isInteger(v) ? String(v) : v.toFixed(2);
    return v.toFixed(3);
  }
})();
