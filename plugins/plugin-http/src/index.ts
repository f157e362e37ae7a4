import { definePlugin, defineTool, type PluginDefinition } from '@parley/core';
import { z } from 'zod';
import { htmlToText } from './extract-text.ts';

export { htmlToText } from './extract-text.ts';

export interface HttpPluginOptions {
  /** Hosts the agent may fetch: `docs.example.com`, `api.example.com:8443`, `*.example.com`. */
  allow: string[];
  /** Bytes read at most from a response body (default 1 MiB); the rest is cut off. */
  maxBytes?: number;
  /** Time limit for one fetch (default 10 s). */
  timeoutMs?: number;
}

const TEXTUAL = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json))/i;

async function readLimited(
  response: Response,
  maxBytes: number,
): Promise<{ body: string; truncated: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { body: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return { body: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}

/**
 * Tier core. The allow-list becomes the plugin's declared network permission, so the host
 * (not this code) enforces it, on every redirect hop too.
 */
export function createHttpPlugin(options: HttpPluginOptions): PluginDefinition {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const httpGet = defineTool({
    name: 'http_get',
    // A GET changes nothing: safe to call again when a run continues after a failover.
    idempotent: true,
    description: `Fetches a web page or API response as text. Allowed hosts: ${options.allow.join(', ') || 'none'}.`,
    input: z.object({ url: z.url().max(2048) }),
    timeoutMs: timeoutMs + 1000,
    run: async ({ url }, context) => {
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
      let response: Response;
      try {
        response = await context.fetch(url, {
          signal,
          headers: { accept: 'text/html, application/json, text/plain;q=0.9, */*;q=0.1' },
        });
      } catch (error) {
        if (signal.aborted && !context.signal.aborted)
          throw new Error(`${url} did not answer within ${timeoutMs} ms`);
        throw error;
      }
      const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
      if (!TEXTUAL.test(contentType)) {
        await response.body?.cancel();
        return {
          url,
          status: response.status,
          contentType,
          text: '',
          note: 'not a text response; body skipped',
        };
      }
      const { body, truncated } = await readLimited(response, maxBytes);
      const page = /html/i.test(contentType) ? htmlToText(body) : { text: body };
      return { url, status: response.status, contentType, ...page, truncated };
    },
  });

  return definePlugin({
    name: '@parley/plugin-http',
    version: '0.1.0',
    contract: 1,
    core: '^0.1.0',
    description: 'Fetch URLs from an allow-list as text.',
    permissions: { network: options.allow, secrets: [] },
    tools: [httpGet],
  });
}
