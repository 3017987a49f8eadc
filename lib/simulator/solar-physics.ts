/**
 * The physics behind a simulated panel's readings. Small, textbook models, chosen to be cheap per reading
 * and plausible rather than bankable:
 * - sun position: NOAA's fractional-year approximations (declination, equation of time), hour angle
 *   from true solar time at the panel's longitude;
 * - clear-sky irradiance: Haurwitz (1945), GHI = 1098·cosZ·exp(-0.059/cosZ), taken as plane-of-array
 *   (low-latitude sites, small tilt);
 * - cell temperature: NOCT model, Tcell = Tambient + (NOCT - 20)/800 · G;
 * - DC power with a -0.4 %/°C temperature coefficient, inverter efficiency falling at low load,
 *   AC clipped at the inverter rating.
 */

const DEG = Math.PI / 180;
const DAY_MS = 86_400_000;
/** Days from 1970-01-01 to 2000-01-01. */
const J2000_DAYS = 10_957;
const TROPICAL_YEAR_DAYS = 365.2422;

export const NOCT_C = 45;
/** °C per W/m² of irradiance above ambient (NOCT model). */
export const NOCT_K = (NOCT_C - 20) / 800;
/** Below this irradiance the inverter is asleep: no DC voltage, no power. */
export const INVERTER_WAKE_WM2 = 10;
export const PANEL_TEMP_MIN_C = -40;
export const PANEL_TEMP_MAX_C = 95;

/** Cosine of the solar zenith angle at a place and time (negative when the sun is below the horizon). */
export function cosSolarZenith(latitudeDeg: number, longitudeDeg: number, epochMs: number): number {
  const days = epochMs / DAY_MS - J2000_DAYS;
  const yearFraction = (((days % TROPICAL_YEAR_DAYS) + TROPICAL_YEAR_DAYS) % TROPICAL_YEAR_DAYS) / TROPICAL_YEAR_DAYS;
  const g = 2 * Math.PI * yearFraction;
  const eqTimeMin =
    229.18 *
    (0.000075 +
      0.001868 * Math.cos(g) -
      0.032077 * Math.sin(g) -
      0.014615 * Math.cos(2 * g) -
      0.040849 * Math.sin(2 * g));
  const decl =
    0.006918 -
    0.399912 * Math.cos(g) +
    0.070257 * Math.sin(g) -
    0.006758 * Math.cos(2 * g) +
    0.000907 * Math.sin(2 * g) -
    0.002697 * Math.cos(3 * g) +
    0.00148 * Math.sin(3 * g);
  const utcMinutes = (((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / 60_000;
  const trueSolarMinutes = utcMinutes + eqTimeMin + 4 * longitudeDeg;
  const hourAngle = (trueSolarMinutes / 4 - 180) * DEG;
  const lat = latitudeDeg * DEG;
  return Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
}

/** Local true solar time in hours [0, 24), without the equation of time (for the ambient-temperature cycle). */
export function solarHour(longitudeDeg: number, epochMs: number): number {
  const h = ((((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000 + longitudeDeg / 15) % 24;
  return h < 0 ? h + 24 : h;
}

/** Haurwitz clear-sky irradiance, W/m²; 0 at night. */
export function clearSkyIrradiance(cosZenith: number): number {
  return cosZenith > 0 ? 1098 * cosZenith * Math.exp(-0.059 / cosZenith) : 0;
}

/** Ambient air temperature: a daily sine peaking mid-afternoon (15:00 solar time). */
export function ambientTemperature(meanC: number, swingC: number, solarHourOfDay: number): number {
  return meanC + swingC * Math.sin((2 * Math.PI * (solarHourOfDay - 9)) / 24);
}

/** Panel temperature (NOCT model), bounded to what a back-sheet sensor reports. */
export function panelTemperature(ambientC: number, irradianceWm2: number): number {
  const t = ambientC + NOCT_K * irradianceWm2;
  return Math.max(PANEL_TEMP_MIN_C, Math.min(PANEL_TEMP_MAX_C, t));
}

export interface PanelRating {
  /** DC nameplate at STC (1000 W/m², 25 °C), W. */
  readonly ratedDcW: number;
  /** Inverter AC limit, W (natural AC power never exceeds it). */
  readonly ratedAcW: number;
  /** String voltage at maximum power, STC, V. */
  readonly vmpV: number;
}

export interface ElectricalState {
  readonly dcPowerW: number;
  readonly dcVoltageV: number;
  readonly dcCurrentA: number;
  readonly acPowerW: number;
}

const DARK: ElectricalState = { dcPowerW: 0, dcVoltageV: 0, dcCurrentA: 0, acPowerW: 0 };

/** DC and AC output for an irradiance and cell temperature. No light, no power. */
export function electrical(rating: PanelRating, irradianceWm2: number, cellTempC: number): ElectricalState {
  if (irradianceWm2 < INVERTER_WAKE_WM2) return DARK;
  const dcPowerW = rating.ratedDcW * (irradianceWm2 / 1000) * (1 - 0.004 * (cellTempC - 25)) * 0.97; // 3 % soiling/wiring
  const dcVoltageV = Math.max(
    1,
    rating.vmpV * (1 - 0.0035 * (cellTempC - 25)) * (1 + 0.03 * Math.log(irradianceWm2 / 1000)),
  );
  const load = dcPowerW / rating.ratedAcW;
  const efficiency = Math.max(0.8, 0.975 - 0.01 / load);
  const acPowerW = Math.min(rating.ratedAcW, dcPowerW * efficiency);
  return { dcPowerW, dcVoltageV, dcCurrentA: dcPowerW / dcVoltageV, acPowerW };
}

/** AC energy over an interval by the trapezoid rule, Wh. */
export function trapezoidEnergyWh(previousAcW: number, acW: number, intervalMs: number): number {
  return ((previousAcW + acW) / 2) * (intervalMs / 3_600_000);
}
