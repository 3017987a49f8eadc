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
    const matches: DeviceView[] = [];
    let total = 0;
    for (const d of this.devices.values()) {
      total++;
      const text = `${d.id} ${d.status} ${d.site ?? ''} ${d.profile}`.toLowerCase();
      if (terms.every((t) => text.includes(t))) matches.push(d);
    }
    // Unicorns first (a handful), then by name.
    matches.sort((a, b) =>
      a.profile === b.profile ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.profile === 'unicorn' ? -1 : 1,
    );
    const shown = matches.slice(0, MAX_ROWS);
    replace(
      this.count,
      terms.length > 0
        ? `${formatNumber(matches.length)} of ${formatNumber(total)} devices match`
        : `${formatNumber(total)} devices`,
      matches.length > MAX_ROWS ? ` (first ${MAX_ROWS} listed: refine the search)` : '',
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

  /** Clicks on the list (one listener for every row). */
  listen(): void {
    this.list.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest('button[data-device]');
      const id = button?.getAttribute('data-device');
      if (id) this.onSelect(id);
    });
  }
}
