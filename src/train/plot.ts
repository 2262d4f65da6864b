// Loss curves: drawn in the terminal (asciichart) and written as a dependency-free SVG.
import asciichart from 'asciichart';

export interface Series {
  name: string;
  /** [step, value] points, steps ascending. */
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** Resample a series to `width` values by the last point at or before each column's step. */
function resample(points: [number, number][], width: number, first: number, last: number): number[] {
  const out: number[] = [];
  let j = 0;
  for (let c = 0; c < width; c++) {
    const step = first + ((last - first) * c) / Math.max(1, width - 1);
    while (j + 1 < points.length && points[j + 1][0] <= step) j++;
    out.push(points[j][1]);
  }
  return out;
}

/** A terminal chart of one or more series (train and validation loss) over the same steps. */
export function asciiPlot(series: Series[], { width = 60, height = 12 } = {}): string {
  const present = series.filter((s) => s.points.length > 0);
  if (present.length === 0) return '(no points to plot)';
  const first = Math.min(...present.map((s) => s.points[0][0]));
  const last = Math.max(...present.map((s) => s.points[s.points.length - 1][0]));
  const colors = [asciichart.blue, asciichart.red, asciichart.green, asciichart.magenta];
  // asciichart cannot leave a gap, so a series that starts late (validation, evaluated every K
  // steps) follows the first series until its first point instead of a flat line at a value it did not have
  const columns = present.map((s) => resample(s.points, width, first, last));
  for (let i = 1; i < present.length; i++) {
    const start = present[i].points[0][0];
    for (let c = 0; c < width && first + ((last - first) * c) / Math.max(1, width - 1) < start; c++) columns[i][c] = columns[0][c];
  }
  const chart = asciichart.plot(columns, {
    height,
    colors: process.stdout.isTTY ? colors.slice(0, present.length) : undefined,
    format: (v: number) => v.toFixed(3).padStart(8),
  });
  const legend = present.map((s, i) => (process.stdout.isTTY ? `${colors[i]}──${asciichart.reset} ${s.name}` : s.name)).join(', ');
  return `${chart}\n${' '.repeat(10)}steps ${first} … ${last}    ${legend}`;
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** An SVG line chart with axes, ticks and a legend; no dependencies. */
export function svgPlot(series: Series[], { title = 'loss', width = 640, height = 400, xLabel = 'step', yLabel = 'loss' } = {}): string {
  const present = series.filter((s) => s.points.length > 0);
  const all = present.flatMap((s) => s.points);
  const margin = { left: 60, right: 20, top: 36, bottom: 44 };
  const plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom;
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]).filter(Number.isFinite);
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let y0 = Math.min(...ys, Infinity), y1 = Math.max(...ys, -Infinity);
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => margin.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5, xv = x0 + ((x1 - x0) * i) / 5;
    parts.push(`<line x1="${margin.left - 4}" y1="${sy(yv)}" x2="${margin.left + plotW}" y2="${sy(yv)}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${sy(yv) + 4}" text-anchor="end">${yv.toPrecision(3)}</text>`);
    parts.push(`<text x="${sx(xv)}" y="${margin.top + plotH + 18}" text-anchor="middle">${Math.round(xv)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text x="14" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${margin.top + plotH / 2})">${escapeXml(yLabel)}</text>`);
  present.forEach((s, i) => {
    const d = s.points.filter((p) => Number.isFinite(p[1])).map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    const color = COLORS[i % COLORS.length];
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${margin.left + plotW - 130}" y="${margin.top + 8 + i * 18}" width="12" height="3" fill="${color}"/>`);
    parts.push(`<text x="${margin.left + plotW - 112}" y="${margin.top + 13 + i * 18}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
