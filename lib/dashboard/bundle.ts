import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The page's static files, built in memory at start with the project's esbuild: the TypeScript under
 * web/dashboard/ with MapLibre GL, uPlot and topojson-client bundled in (no CDN, nothing fetched at
 * run time, the Natural Earth basemap from the world-atlas package included), and its CSS.
 */
export interface PageAssets {
  readonly files: ReadonlyMap<string, { readonly type: string; readonly body: Buffer }>;
  readonly buildMs: number;
}

export async function buildPageAssets(root: string): Promise<PageAssets> {
  const started = Date.now();
  // esbuild is a build tool: loaded only when the dashboard starts.
  const esbuild = await import('esbuild');
  const web = join(root, 'web', 'dashboard');
  const out = await esbuild.build({
    entryPoints: { app: join(web, 'main.ts') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir: '/',
    write: false,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const f of out.outputFiles) {
    const name = f.path.split('/').pop()!;
    const type = name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : 'text/plain';
    files.set(`/${name}`, { type: `${type}; charset=utf-8`, body: Buffer.from(f.contents) });
  }
  files.set('/', { type: 'text/html; charset=utf-8', body: readFileSync(join(web, 'index.html')) });
  // MapLibre 6 runs its tile work in a module worker loaded from this URL (same origin: CSP worker-src 'self').
  files.set('/maplibre-gl-worker.mjs', {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(dirname(require.resolve('maplibre-gl/package.json')), 'dist', 'maplibre-gl-worker.mjs')),
  });
  return { files, buildMs: Date.now() - started };
}
