import { deriveSeed, Rng } from './prng';

/**
 * Weather over one site, shared by every panel of the site: a clear-sky index k (the fraction of the
 * clear-sky irradiance that reaches the panels) per minute, and rain.
 *
 * The sky switches between three regimes with exponential dwell times (a Markov chain per minute):
 * - `clear`: k ≈ 1, with a little haze;
 * - `broken`: passing cumulus: a fast Ornstein-Uhlenbeck process through a steep logistic, so the sun is
 *   either out (with the cloud-edge enhancement real pyranometers see, k up to ~1.15) or behind a cloud
 *   (k ≈ 0.3);
 * - `overcast`: k ≈ 0.15-0.45, slowly varying; rain falls only from it.
 * Switching is instant, so the data has sudden clearings (overcast to clear within a minute) and sudden
 * cloud onsets, which a detector must not mistake for faults or spikes.
 *
 * The weather is a pure function of (seed, site, minute): the minutes are generated forward from the
 * first one asked for and kept, so any panel can look a few minutes back or ahead (clouds drift across a
 * site, so neighbours see the same cloud at slightly different times) and every fleet size sees the
 * same sky.
 */
export type SkyRegime = 'clear' | 'broken' | 'overcast';

/** A site's climate: how often the sky is cloudy, and how often an overcast sky rains. */
export interface SiteClimate {
  /** 0 (desert) .. 1 (monsoon): shifts the regimes' dwell times. */
  readonly cloudiness: number;
  /** Chance per overcast hour that rain starts. */
  readonly rainPerOvercastHour: number;
}

const MINUTE_MS = 60_000;
const REGIMES: readonly SkyRegime[] = ['clear', 'broken', 'overcast'];

export interface SkyState {
  readonly regime: SkyRegime;
  /** Fraction of the clear-sky irradiance reaching the panels. */
  readonly clearSkyIndex: number;
}

export class SiteWeather {
  private readonly rng: Rng;
  private firstMinute = Number.NaN;
  private readonly index: number[] = [];
  private readonly regimes: number[] = [];
  /** Cumulative count of rain showers up to each minute. */
  private readonly rains: number[] = [];
  private regime = 0;
  private fast = 0;
  private slow = 0;
  private haze = 0;
  private raining = false;
  private rainCount = 0;
  private readonly meanMinutes: readonly number[];

  constructor(
    seed: number,
    siteName: string,
    private readonly climate: SiteClimate,
  ) {
    this.rng = new Rng(deriveSeed(seed, `weather:${siteName.toLowerCase()}`));
    const c = Math.max(0, Math.min(1, climate.cloudiness));
    // Mean dwell times in minutes: a sunny site stays clear for hours, a cloudy one overcast for hours.
    this.meanMinutes = [60 + 300 * (1 - c), 40 + 120 * c, 30 + 240 * c];
    this.regime = this.rng.int(0, 2);
    this.fast = this.rng.normal();
    this.slow = this.rng.normal();
  }

  /** The sky at an instant (minute resolution). */
  at(epochMs: number): SkyState {
    const i = this.ensure(Math.floor(epochMs / MINUTE_MS));
    return { regime: REGIMES[this.regimes[i]], clearSkyIndex: this.index[i] };
  }

  clearSkyIndex(epochMs: number): number {
    return this.index[this.ensure(Math.floor(epochMs / MINUTE_MS))];
  }

  /** Rain showers that started up to this instant, counted from the first minute generated. */
  rainsUntil(epochMs: number): number {
    return this.rains[this.ensure(Math.floor(epochMs / MINUTE_MS))];
  }

  private ensure(minute: number): number {
    if (Number.isNaN(this.firstMinute)) this.firstMinute = minute - 60; // room for panels that look back
    const i = minute - this.firstMinute;
    if (i < 0) throw new RangeError('SiteWeather: asked for a minute before the first one generated');
    while (this.index.length <= i) this.stepMinute();
    return i;
  }

  private stepMinute(): void {
    const rng = this.rng;
    // Regime switch: leave the current regime with probability 1/mean dwell per minute.
    if (rng.float() < 1 / this.meanMinutes[this.regime]) {
      const others = [0, 1, 2].filter((r) => r !== this.regime);
      // Cloudy climates go to overcast more often than to clear, and vice versa.
      const towardsCloud = rng.float() < 0.35 + 0.4 * this.climate.cloudiness;
      this.regime = towardsCloud ? others[others.length - 1] : others[0];
      if (this.regime !== 2) this.raining = false;
    }
    // Ornstein-Uhlenbeck processes, exact discretisation per minute.
    const ou = (x: number, tauMin: number) => {
      const d = Math.exp(-1 / tauMin);
      return x * d + Math.sqrt(1 - d * d) * rng.normal();
    };
    this.fast = ou(this.fast, 6);
    this.slow = ou(this.slow, 45);
    this.haze = ou(this.haze, 120);
    let k: number;
    if (this.regime === 0) k = 1 - 0.04 * Math.abs(this.haze);
    else if (this.regime === 1) {
      const cover = 1 / (1 + Math.exp(-4 * (this.fast + 0.3 * this.slow)));
      // Sun out (cover ~0): cloud-edge enhancement; behind a cloud (cover ~1): ~30 % gets through.
      k = (1 - cover) * (1.05 + 0.08 * Math.max(0, this.slow)) + cover * 0.3;
    } else k = 0.3 + 0.12 * Math.tanh(this.slow);
    if (this.regime === 2 && !this.raining && rng.float() < this.climate.rainPerOvercastHour / 60) {
      this.raining = true;
      this.rainCount++;
    } else if (this.raining && rng.float() < 1 / 45) this.raining = false;
    this.index.push(k);
    this.regimes.push(this.regime);
    this.rains.push(this.rainCount);
  }
}

/** Clear-sky mode: the sun alone, no clouds, no rain (deterministic curves for demos and physics checks). */
export const CLEAR_SKY: Pick<SiteWeather, 'clearSkyIndex' | 'rainsUntil'> = {
  clearSkyIndex: () => 1,
  rainsUntil: () => 0,
};

export type WeatherSource = Pick<SiteWeather, 'clearSkyIndex' | 'rainsUntil'>;
