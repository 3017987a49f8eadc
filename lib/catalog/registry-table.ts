import type { ArchiveColumn } from '../core/profiles';

/**
 * Where the solar device registry lives in the archive bucket and the Glue table over it: catalog facts,
 * so deploy time, the embedded engine and the named queries share them. The record format (and the
 * writer and parser) is lib/simulator/device-registry.ts.
 */
export const REGISTRY_TABLE = 'solar_registry';
/** Prefix the Glue table reads (every object under it). */
export const REGISTRY_PREFIX = 'registry/profile=solar/';
/** The registry object's key in the archive bucket. */
export const REGISTRY_KEY = `${REGISTRY_PREFIX}devices.ndjson`;

/** The Glue table's columns: the NDJSON keys (Athena lower-cases them). */
export const REGISTRY_COLUMNS: readonly ArchiveColumn[] = [
  { name: 'panelId', type: 'string', comment: 'Panel id, as in solar_raw.panelid' },
  { name: 'site', type: 'string', comment: 'Site the panel belongs to (its panels share the weather)' },
  { name: 'latitude', type: 'double', comment: 'Degrees north' },
  { name: 'longitude', type: 'double', comment: 'Degrees east' },
  { name: 'ratedPowerW', type: 'double', comment: 'DC nameplate at STC, W' },
];
