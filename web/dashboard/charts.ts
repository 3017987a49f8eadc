import uPlot from 'uplot';
import type { MinutesResponse } from '../../lib/dashboard/wire';
import { formatNumber, h, replace } from './dom';

/**
 * Per-minute charts of one device. uPlot: a time-series chart library made for exactly this (tens of
 * thousands of points per series on a canvas in a few milliseconds, ~50 KB), where general charting
 * libraries are several times larger and slower for the same line chart.
 */
interface ChartSpec {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly { readonly metric: string; readonly label: string; readonly color: string }[];
}

export const CHARTS: Readonly<Record<string, readonly ChartSpec[]>> = {
  unicorn: [
    { title: 'Distance per minute', unit: '', series: [{ metric: 'Distance', label: 'Distance', color: '#7c3aed' }] },
    {
      title: 'Magic points (min / max)',
      unit: 'MP',
      series: [
        { metric: 'MinMagicPoints', label: 'min', color: '#0ea5e9' },
        { metric: 'MaxMagicPoints', label: 'max', color: '#1d4ed8' },
      ],
    },
    {
      title: 'Health points (min / max)',
      unit: 'HP',
      series: [
        { metric: 'MinHealthPoints', label: 'min', color: '#f43f5e' },
        { metric: 'MaxHealthPoints', label: 'max', color: '#9f1239' },
      ],
    },
  ],
  solar: [
    { title: 'Energy per minute', unit: 'Wh', series: [{ metric: 'EnergyWh', label: 'energy', color: '#ca8a04' }] },
    {
      title: 'AC power (min / mean / max)',
      unit: 'W',
      series: [
        { metric: 'MinPowerW', label: 'min', color: '#86efac' },
        { metric: 'MeanPowerW', label: 'mean', color: '#16a34a' },
        { metric: 'MaxPowerW', label: 'max', color: '#14532d' },
      ],
    },
    {
      title: 'Panel temperature (max)',
      unit: '°C',
      series: [{ metric: 'MaxPanelTempC', label: 'max', color: '#ea580c' }],
    },
    { title: 'Fault readings', unit: '', series: [{ metric: 'FaultCount', label: 'faults', color: '#dc2626' }] },
  ],
};

export class DeviceCharts {
  private plots: uPlot[] = [];

  constructor(private readonly container: HTMLElement) {
    new ResizeObserver(() => {
      for (const p of this.plots) p.setSize({ width: this.width(p.root.parentElement!), height: 150 });
    }).observe(container);
  }

  /** Each chart fills its grid cell (the figure), not the whole panel. */
  private width(figure: HTMLElement): number {
    return Math.max(240, figure.clientWidth);
  }

  show(profile: string, data: MinutesResponse): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    replace(this.container);
    const specs = CHARTS[profile] ?? [];
    const xs = data.minutes.map((m) => m.t / 1000);
    const span = xs.length > 0 ? xs[xs.length - 1] - xs[0] : 0;
    for (const spec of specs) {
      const figure = h('figure', { class: 'chart', 'data-chart': spec.title, 'data-points': xs.length });
      const caption = h('figcaption', {}, spec.title, spec.unit ? ` (${spec.unit})` : '');
      figure.append(caption);
      this.container.append(figure);
      const ys = spec.series.map((s) => data.minutes.map((m) => m.metrics[s.metric] ?? null));
      const plot = new uPlot(
        {
          width: this.width(figure),
          height: 150,
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
          // A lone minute would get an axis of years: keep at least ten minutes around the data.
          scales: {
            x: { time: true, ...(span < 600 ? { range: [xs[0] - 300, xs[0] + 300] as uPlot.Range.MinMax } : {}) },
          },
          axes: [{}, { size: 50, values: (_u, vals) => vals.map((v) => formatNumber(v, 1)) }],
          series: [
            { label: 'minute (UTC)' },
            ...spec.series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: 1.5,
              points: { show: xs.length < 120 },
            })),
          ],
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        },
        [xs, ...ys] as uPlot.AlignedData,
        figure,
      );
      this.plots.push(plot);
    }
  }

  clear(): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    replace(this.container);
  }
}
