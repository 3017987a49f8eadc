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

export const SWIFTSHADER_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: SWIFTSHADER_ARGS });
}
