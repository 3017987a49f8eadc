import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Headless Chromium from the system (Debian's `chromium` package), driven by playwright-core. WebGL runs
 * on SwiftShader (software), so the map draws without a GPU.
 */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!path || !existsSync(path)) {
    throw new Error(
      `No Chromium found (looked at ${process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.join(', ')}). ` +
        'The browser tests need it: `apt-get update && apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), ' +
        'or set CHROMIUM_PATH to a Chromium or Chrome executable.',
    );
  }
  return path;
}

/**
 * WebGL on SwiftShader, the page composited in software: what Chrome does by itself on a machine without a
 * GPU (chrome://gpu there: "Compositing: Software only", "WebGL: Software only"). Without
 * `--disable-gpu-compositing`, `--use-angle=swiftshader --ignore-gpu-blocklist` also make SwiftShader the
 * compositor and the rasterizer of the whole page, a path no GPU-less browser takes, and every animation
 * frame re-composites the 1440x900 page in emulated GL: ~63 ms of browser CPU per panning frame of the
 * dashboard instead of ~45 ms (bench/dashboard.ts, same page, load 4-7).
 */
export const SWIFTSHADER_ARGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-gpu-compositing',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: SWIFTSHADER_ARGS });
}
