import type { GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl';
import * as maplibregl from 'maplibre-gl';
import { feature } from 'topojson-client';
import { planarTriangleArea, presimplify, simplify } from 'topojson-simplify';
import type { GeometryCollection, Objects, Topology } from 'topojson-specification';
import type { DeviceView } from '../../lib/dashboard/wire';
import { formatNumber, formatTime, h } from './dom';

/**
 * The fleet on a map. MapLibre GL JS rather than Leaflet: it draws points with WebGL from a GeoJSON source
 * tiled in a worker, so 30,000 panels are one circle layer that pans at frame rate and an update is a diff
 * sent to the worker, where Leaflet would keep 30,000 DOM or canvas markers on the main thread. The
 * basemap is Natural Earth's country outlines from the world-atlas package, served by the dashboard
 * itself: no tile server, nothing fetched from the internet. Unicorns, a handful, also get a DOM label
 * with their name (text, never HTML) as on the workshop's map.
 */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  LOW_HEALTH: '#dc2626',
  LOW_MAGIC: '#ea580c',
  DEGRADED: '#f97316',
  FAULT_GRID: '#b91c1c',
  FAULT_OVERTEMP: '#b91c1c',
  FAULT_ISOLATION: '#b91c1c',
  FAULT_ARC: '#b91c1c',
  NO_DATA: '#9ca3af',
};
export const UNICORN_COLOR = '#a21caf';
const MAX_LABELS = 300;
/** Fewer panels than this within a group's radius are drawn one by one, at every zoom. */
export const GROUP_MIN_POINTS = 64;
/** Above this zoom every panel is drawn (a site of 0.1 degrees is ~150 pixels wide at zoom 10). */
export const GROUP_MAX_ZOOM = 9;
/**
 * Below this zoom the basemap is a simplified copy of the outlines. On software WebGL (SwiftShader, what a
 * machine without a GPU and headless Chromium draw with) a frame costs about a microsecond per triangle:
 * the 12,500 triangles and 13,000 border lines of the 1:110m countries were the largest part of a fleet-zoom
 * frame after the fixed cost of compositing the page.
 */
export const DETAIL_MIN_ZOOM = 3;
/** Below this zoom (the whole world in view) the basemap is simplified further (see LOW_DETAIL_MIN_AREA). */
export const MID_DETAIL_MIN_ZOOM = 2;
/**
 * Visvalingam areas (square degrees) under which a vertex of the simplified copies is dropped (topology
 * kept: neighbours share their simplified border). 0.2 from zoom 2 to 3: at most ~26 square pixels at the
 * equator, 5,600 of the 10,300 vertices of the full outlines. 1 below zoom 2, the fleet view of a 1440x900
 * window (zoom 1.25 there): at most ~32 square pixels at zoom 2, ~11 at 1.25, and 2,800 vertices (half the
 * triangles and border lines of the 0.2 copy: ~7 ms less of SwiftShader per panning frame, load 6-7).
 */
const MID_DETAIL_MIN_AREA = 0.2;
const LOW_DETAIL_MIN_AREA = 1;
const FAULT_STATUSES = Object.keys(STATUS_COLORS).filter((s) => s.startsWith('FAULT_'));
/** Power relative to rating: dark blue (none), green, yellow (rated). */
const POWER_RAMP = [0, '#1e3a8a', 0.5, '#16a34a', 1, '#facc15'];

type Expression = maplibregl.ExpressionSpecification;

function panelColor(status: Expression, fraction: Expression): Expression {
  return [
    'match',
    status,
    'OK',
    ['interpolate', ['linear'], fraction, ...POWER_RAMP],
    ...Object.entries(STATUS_COLORS).flat(),
    '#6b7280',
  ] as Expression;
}

/**
 * A group of panels: red when at least a tenth is faulted, orange when a tenth is degraded, grey when
 * most never reported, else the mean power of the reporting panels on the panels' ramp. A red ring marks
 * any fault in the group.
 */
function groupColor(): Expression {
  const share = (k: string, f: number): Expression => ['>=', ['get', k], ['*', f, ['get', 'point_count']]];
  const reporting: Expression = ['max', 1, ['-', ['get', 'point_count'], ['get', 'silent']]];
  return [
    'case',
    share('faults', 0.1),
    STATUS_COLORS.FAULT_GRID,
    share('degraded', 0.1),
    STATUS_COLORS.DEGRADED,
    share('silent', 0.5),
    STATUS_COLORS.NO_DATA,
    ['interpolate', ['linear'], ['/', ['get', 'power'], reporting], ...POWER_RAMP],
  ] as Expression;
}

type Props = { id: string; p: string; s: string; f: number };

function powerFraction(d: DeviceView): number {
  const w = d.values.acPowerW;
  if (typeof w !== 'number' || !d.ratedPowerW) return 0;
  return Math.max(0, Math.min(1, w / d.ratedPowerW));
}

function toFeature(d: DeviceView, fid: number): GeoJSON.Feature<GeoJSON.Point, Props> {
  return {
    type: 'Feature',
    id: fid,
    geometry: { type: 'Point', coordinates: [d.lon!, d.lat!] },
    properties: { id: d.id, p: d.profile, s: d.status, f: powerFraction(d) },
  };
}

const setWorkerUrl = () => maplibregl.setWorkerUrl(new URL('/maplibre-gl-worker.mjs', location.href).href);

export class FleetMap {
  readonly map: MapLibreMap;
  /** Resolves when the style is loaded and its sources take data. */
  readonly loaded: Promise<void>;
  private readonly ids = new Map<string, number>();
  private readonly onMap = new Set<string>();
  private readonly labels = new Map<string, { marker: maplibregl.Marker; text: HTMLElement }>();
  private fitted = false;
  private readonly detailed: GeoJSON.FeatureCollection;
  private readonly midDetail: GeoJSON.FeatureCollection;
  private detailLoaded = false;

  constructor(container: HTMLElement, world: Topology, onSelect: (id: string) => void) {
    setWorkerUrl();
    const countriesOf = (t: Topology) =>
      unwrapAntimeridian(feature(t, t.objects.countries as GeometryCollection) as GeoJSON.FeatureCollection);
    this.detailed = countriesOf(world);
    // presimplify does not modify its input (it returns a copy with weights); nor does simplify.
    const weighted = presimplify(world as Topology<Objects>, planarTriangleArea);
    const simplified = countriesOf(simplify(weighted, LOW_DETAIL_MIN_AREA) as Topology);
    this.midDetail = countriesOf(simplify(weighted, MID_DETAIL_MIN_AREA) as Topology);
    this.map = new maplibregl.Map({
      container,
      center: [10, 15],
      zoom: 1.2,
      attributionControl: { compact: true, customAttribution: 'Natural Earth (world-atlas)' },
      fadeDuration: 0, // no labels to fade in: no extra frames after a move
      style: {
        version: 8,
        sources: {
          // Zoomed out, the basemap is the simplified outlines as a single tile (zoom 0) with every vertex of
          // that copy kept: on software WebGL each tile is a clipping mask and a set of draw calls, and a
          // frame of one tile per world copy pans ~35% faster than one of four.
          'world-low': { type: 'geojson', data: simplified, maxzoom: 0, tolerance: 0 },
          // The same from zoom 2 to 3, a little less simplified; handed to the worker with the detail below.
          'world-mid': { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, maxzoom: 0, tolerance: 0 },
          // Zoomed in, the full outlines cut in tiles up to zoom 5 (overscaled beyond): a view of one site
          // draws the few hundred triangles around it, not the whole world's. Its data is handed to the
          // worker after the first render (see loadDetail): the fleet view does not need it.
          world: { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, maxzoom: 5 },
          // Two sources: a unicorn moving every second re-tiles a handful of points, not the 30,000 panels.
          // Points need almost no tile buffer (the circles are a few pixels): less to tile and draw.
          // Panels are grouped (MapLibre's clustering, in the worker) where at least
          // GROUP_MIN_POINTS of them would share a few pixels: a fleet view draws a circle per site, not
          // thousands of overlapping circles; a small fleet, or any fleet zoomed in, is drawn panel by panel.
          panels: {
            type: 'geojson',
            data: { type: 'FeatureCollection', features: [] },
            buffer: 4,
            cluster: true,
            clusterRadius: 24,
            clusterMaxZoom: GROUP_MAX_ZOOM,
            clusterMinPoints: GROUP_MIN_POINTS,
            clusterProperties: {
              faults: ['+', ['case', ['in', ['get', 's'], ['literal', FAULT_STATUSES]], 1, 0]],
              degraded: ['+', ['case', ['==', ['get', 's'], 'DEGRADED'], 1, 0]],
              silent: ['+', ['case', ['==', ['get', 's'], 'NO_DATA'], 1, 0]],
              power: ['+', ['get', 'f']],
            },
          },
          unicorns: { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, buffer: 16 },
        },
        layers: [
          // No background layer: the sea is the map container's CSS background (style.css) seen through the
          // canvas where no land is drawn. On software WebGL a background layer is one more shaded pass over
          // every pixel of every frame (~4-7 ms of SwiftShader per panning frame at 1440x900, load 7-9).
          // Borders are the fill's outline (1-pixel GL lines in the same draw), not a line layer: on software
          // WebGL a line layer's triangles cost more than the land fill and every panel together.
          {
            id: 'land-low',
            type: 'fill',
            source: 'world-low',
            maxzoom: MID_DETAIL_MIN_ZOOM,
            paint: { 'fill-color': '#f4f1e8', 'fill-outline-color': '#b8b2a2' },
          },
          {
            id: 'land-mid',
            type: 'fill',
            source: 'world-mid',
            minzoom: MID_DETAIL_MIN_ZOOM,
            maxzoom: DETAIL_MIN_ZOOM,
            paint: { 'fill-color': '#f4f1e8', 'fill-outline-color': '#b8b2a2' },
          },
          {
            id: 'land',
            type: 'fill',
            source: 'world',
            minzoom: DETAIL_MIN_ZOOM,
            paint: { 'fill-color': '#f4f1e8', 'fill-outline-color': '#b8b2a2' },
          },
          {
            id: 'panel-groups',
            type: 'circle',
            source: 'panels',
            filter: ['has', 'point_count'],
            paint: {
              'circle-radius': [
                'interpolate',
                ['linear'],
                ['get', 'point_count'],
                GROUP_MIN_POINTS,
                6,
                1000,
                10,
                10000,
                16,
              ],
              'circle-color': groupColor(),
              'circle-stroke-color': ['case', ['>', ['get', 'faults'], 0], STATUS_COLORS.FAULT_GRID, '#ffffff'],
              'circle-stroke-width': ['case', ['>', ['get', 'faults'], 0], 2, 1],
            },
          },
          {
            id: 'panels',
            type: 'circle',
            source: 'panels',
            filter: ['!', ['has', 'point_count']],
            paint: {
              // 4 pixels from zoom 6 (was 6 from zoom 10): a site's 3,750 panels overlap ~2 deep at zoom 11 instead
              // of ~4 deep, so more of them are seen, and on software WebGL each circle's pixels are shaded on the
              // CPU (~8 ms less of SwiftShader per panning frame there, 2 alternating pairs at load 7-9).
              'circle-radius': ['interpolate', ['linear'], ['zoom'], 1, 2.5, 6, 4],
              'circle-color': panelColor(['get', 's'], ['get', 'f']),
            },
          },
          {
            id: 'unicorns',
            type: 'circle',
            source: 'unicorns',
            paint: {
              'circle-radius': 7,
              'circle-color': [
                'match',
                ['get', 's'],
                'OK',
                UNICORN_COLOR,
                ...Object.entries(STATUS_COLORS).flat(),
                '#6b7280',
              ],
              'circle-stroke-color': '#ffffff',
              'circle-stroke-width': 2,
            },
          },
        ],
      },
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    this.map.on('click', 'panel-groups', (e) => {
      const f = e.features?.[0];
      const group = f?.properties?.cluster_id;
      if (typeof group !== 'number' || f?.geometry.type !== 'Point') return;
      const center = f.geometry.coordinates as [number, number];
      void (this.map.getSource('panels') as GeoJSONSource)
        .getClusterExpansionZoom(group)
        .then((zoom) => this.map.easeTo({ center, zoom }));
    });
    for (const layer of ['panels', 'unicorns', 'panel-groups']) {
      this.map.on('click', layer, (e) => {
        const id = e.features?.[0]?.properties?.id;
        if (typeof id === 'string') onSelect(id);
      });
      this.map.on('mouseenter', layer, () => {
        this.map.getCanvas().style.cursor = 'pointer';
      });
      this.map.on('mouseleave', layer, () => {
        this.map.getCanvas().style.cursor = '';
      });
    }
    this.map.on('zoom', () => {
      if (this.map.getZoom() >= MID_DETAIL_MIN_ZOOM - 0.5) this.loadDetail();
    });
    this.capSoftwarePixelRatio();
    // The style's sources exist once it is parsed: the fleet can go to the worker while the basemap's tile
    // is still being built and drawn ('load' would wait for that first frame).
    this.loaded = new Promise((resolve) => this.map.once('style.load', () => resolve()));
  }

  /** The more detailed basemaps to the worker: once, after the first render or when zooming in towards them. */
  private loadDetail(): void {
    if (this.detailLoaded) return;
    this.detailLoaded = true;
    (this.map.getSource('world-mid') as GeoJSONSource).setData(this.midDetail);
    (this.map.getSource('world') as GeoJSONSource).setData(this.detailed);
  }

  /**
   * On software WebGL every pixel is computed on the CPU: a HiDPI screen would cost four times the pixels
   * per frame, so the map is drawn at one pixel per CSS pixel there (the browser scales it up).
   */
  private capSoftwarePixelRatio(): void {
    if (this.map.getPixelRatio() <= 1) return;
    const gl = this.map.getCanvas().getContext('webgl2');
    // Chromium reports RENDERER as "WebKit WebGL": the driver's name is behind WEBGL_debug_renderer_info
    // ("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...") where the browser exposes it.
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl?.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    if (/swiftshader|llvmpipe|software/i.test(renderer)) this.map.setPixelRatio(1);
  }

  private fid(id: string): number {
    let n = this.ids.get(id);
    if (n === undefined) {
      n = this.ids.size + 1;
      this.ids.set(id, n);
    }
    return n;
  }

  /** The whole fleet (first load). */
  setAll(devices: readonly DeviceView[]): void {
    const features = devices.filter((d) => d.lat !== null && d.lon !== null).map((d) => toFeature(d, this.fid(d.id)));
    this.onMap.clear();
    for (const f of features) this.onMap.add(f.properties.id);
    const of = (p: string) => ({
      type: 'FeatureCollection' as const,
      features: features.filter((f) => f.properties.p === p),
    });
    (this.map.getSource('panels') as GeoJSONSource).setData(of('solar'));
    (this.map.getSource('unicorns') as GeoJSONSource).setData(of('unicorn'));
    this.updateLabels(devices);
    this.map.once('idle', () => this.loadDetail());
    if (!this.fitted && features.length > 0) {
      this.fitted = true;
      const b = new maplibregl.LngLatBounds();
      for (const f of features) b.extend(f.geometry.coordinates as [number, number]);
      this.map.fitBounds(b, { padding: 40, maxZoom: 12, duration: 0 });
    }
  }

  /** Changed devices only: a diff to the worker (no re-tiling of the whole fleet on the main thread). */
  update(devices: readonly DeviceView[]): void {
    type Diff = { id: number; newGeometry: GeoJSON.Point; addOrUpdateProperties: { key: string; value: unknown }[] };
    const diffs = new Map<string, { add: GeoJSON.Feature[]; update: Diff[] }>();
    for (const d of devices) {
      if (d.lat === null || d.lon === null) continue;
      const source = d.profile === 'unicorn' ? 'unicorns' : 'panels';
      const diff = diffs.get(source) ?? { add: [], update: [] };
      diffs.set(source, diff);
      const f = toFeature(d, this.fid(d.id));
      if (this.onMap.has(d.id)) {
        diff.update.push({
          id: f.id as number,
          newGeometry: f.geometry,
          addOrUpdateProperties: Object.entries(f.properties).map(([key, value]) => ({ key, value })),
        });
      } else {
        this.onMap.add(d.id);
        diff.add.push(f);
      }
    }
    for (const [source, diff] of diffs) void (this.map.getSource(source) as GeoJSONSource).updateData(diff);
    this.updateLabels(devices);
  }

  flyTo(d: DeviceView): void {
    if (d.lat === null || d.lon === null) return;
    this.map.flyTo({ center: [d.lon, d.lat], zoom: Math.max(this.map.getZoom(), d.profile === 'unicorn' ? 10 : 6) });
  }

  /** Name labels for unicorns (DOM markers: textContent only). */
  private updateLabels(devices: readonly DeviceView[]): void {
    for (const d of devices) {
      if (d.profile !== 'unicorn' || d.lat === null || d.lon === null) continue;
      const text = `${d.id} · HP ${formatNumber(d.values.HealthPoints as number)} · MP ${formatNumber(d.values.MagicPoints as number)}`;
      const existing = this.labels.get(d.id);
      if (existing) {
        existing.marker.setLngLat([d.lon, d.lat]);
        existing.text.textContent = text;
        existing.text.title = `last seen ${formatTime(d.lastSeen)}`;
        continue;
      }
      if (this.labels.size >= MAX_LABELS) continue;
      const el = h(
        'div',
        { class: 'unicorn-label', 'data-device': d.id, title: `last seen ${formatTime(d.lastSeen)}` },
        text,
      );
      const marker = new maplibregl.Marker({ element: el, anchor: 'left', offset: [10, 0] })
        .setLngLat([d.lon, d.lat])
        .addTo(this.map);
      this.labels.set(d.id, { marker, text: el });
    }
  }
}

/**
 * world-atlas cuts rings at ±180° for spherical projections; on a flat map a ring that jumps from 180 to
 * -180 draws a line across the world. Longitudes are unwrapped along each ring (MapLibre draws the
 * world copies either side), so Russia and Fiji close where they should.
 */
export function unwrapAntimeridian(fc: GeoJSON.FeatureCollection): GeoJSON.FeatureCollection {
  const ring = (r: GeoJSON.Position[]) => {
    let shift = 0;
    return r.map((p, i) => {
      const jump = i > 0 ? p[0] - r[i - 1][0] : 0;
      if (jump > 180) shift -= 360;
      else if (jump < -180) shift += 360;
      return [p[0] + shift, p[1]];
    });
  };
  const polygon = (rings: GeoJSON.Position[][]) => rings.map(ring);
  return {
    ...fc,
    features: fc.features.map((f) => {
      const g = f.geometry;
      if (g?.type === 'Polygon') return { ...f, geometry: { ...g, coordinates: polygon(g.coordinates) } };
      if (g?.type === 'MultiPolygon') return { ...f, geometry: { ...g, coordinates: g.coordinates.map(polygon) } };
      return f;
    }),
  };
}
