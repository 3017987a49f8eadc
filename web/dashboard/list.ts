import type { DeviceView } from '../../lib/dashboard/wire';
import { byId, formatNumber, formatTime, h, replace } from './dom';

const MAX_ROWS = 200;

/** The device list as text: name, status, last seen; searchable; the first 200 matches are listed. */
export class DeviceList {
  private readonly list = byId<HTMLUListElement>('device-list');
  private readonly count = byId('device-count');
  private readonly search = byId<HTMLInputElement>('search');
  private pending = false;
  private selected: string | null = null;
  private order: string[] = [];
  private readonly texts = new WeakMap<DeviceView, string>();

  constructor(
    private readonly devices: ReadonlyMap<string, DeviceView>,
    private readonly onSelect: (id: string) => void,
  ) {
    this.search.addEventListener('input', () => this.render());
  }

  select(id: string | null): void {
    this.selected = id;
    this.render();
  }

  /** Coalesces bursts of updates into one render per animation frame. */
  invalidate(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render(): void {
    const terms = this.search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const total = this.devices.size;
    // The order (unicorns first, then by name) is sorted again only when devices were added, and a
    // device's search text is built once per version of it: an update of 30,000 panels costs a pass
    // over cached strings, not 30,000 string builds and a sort.
    if (this.order.length !== total) {
      this.order = [...this.devices.values()]
        .sort((a, b) =>
          a.profile === b.profile ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.profile === 'unicorn' ? -1 : 1,
        )
        .map((d) => d.id);
    }
    const matches: DeviceView[] = [];
    let matched = 0;
    for (const id of this.order) {
      const d = this.devices.get(id)!;
      if (terms.length > 0 && !terms.every((t) => this.textOf(d).includes(t))) continue;
      matched++;
      if (matches.length < MAX_ROWS) matches.push(d);
      else if (terms.length === 0) {
        matched = total;
        break;
      }
    }
    const shown = matches;
    replace(
      this.count,
      terms.length > 0
        ? `${formatNumber(matched)} of ${formatNumber(total)} devices match`
        : `${formatNumber(total)} devices`,
      matched > MAX_ROWS ? ` (first ${MAX_ROWS} listed: refine the search)` : '',
    );
    replace(
      this.list,
      ...shown.map((d) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `device status-${d.status.toLowerCase().replace(/[^a-z_]/g, '')}`,
              'data-device': d.id,
              'aria-pressed': d.id === this.selected ? 'true' : 'false',
            },
            h('span', { class: 'name' }, d.id),
            h('span', { class: 'status' }, d.status),
            h('span', { class: 'seen' }, formatTime(d.lastSeen)),
            d.site ? h('span', { class: 'site' }, d.site) : null,
          ),
        ),
      ),
    );
  }

  private textOf(d: DeviceView): string {
    let text = this.texts.get(d);
    if (text === undefined) {
      text = `${d.id} ${d.status} ${d.site ?? ''} ${d.profile}`.toLowerCase();
      this.texts.set(d, text);
    }
    return text;
  }

  /** Clicks on the list (one listener for every row). */
  listen(): void {
    this.list.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest('button[data-device]');
      const id = button?.getAttribute('data-device');
      if (id) this.onSelect(id);
    });
  }
}
