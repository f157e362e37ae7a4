import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build -w @parley/dashboard` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(
  new URL('../../../dashboard/dist', import.meta.url),
);

/** The dashboard's own pages may load their scripts and styles and call this origin, nothing else. */
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const LANDING = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Parley is running</h1>
<p>The API is at <a href="/v1/openapi.json">/v1/openapi.json</a>. The dashboard has not been built on this machine
(<code>npm run build -w @parley/dashboard</code>).</p>
<p>Health: <a href="/healthz">/healthz</a> · readiness: <a href="/readyz">/readyz</a></p>
</body></html>
`;

/**
 * Serves the dashboard's built files with a single-page-app fallback (any non-API path gets
 * index.html), or a short landing page when the dashboard is not built.
 */
export async function registerDashboard(app: FastifyInstance, dir: string | undefined) {
  const root = dir ?? DEFAULT_DASHBOARD_DIR;
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(LANDING),
    );
    return { served: false as const, root };
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: ['index.html'],
    setHeaders: (reply, path) => {
      reply.header('content-security-policy', DASHBOARD_CSP);
      // Hashed asset names never change: cache them; index.html always revalidates.
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return { served: true as const, root };
}

/** Paths the single-page app handles (everything but the API, the OpenAI-compatible API, A2A, the operational routes and the public trust pages). */
export function isDashboardPath(url: string): boolean {
  return !/^\/(v1|openai|a2a|metrics|healthz|readyz|\.well-known|trust)(\/|$|\?)/.test(url);
}
