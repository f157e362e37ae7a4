import type { z } from 'zod';
import { type ClientOptions, createTransport, type Query } from '../transport.ts';

/** What every group of routes is written with: the transport, GET with a query, and a send. */
export function createVerbs(options: ClientOptions) {
  const t = createTransport(options);
  const get = <T>(path: string, query?: Query) => t.json<T>('GET', path, query ? { query } : {});
  const send = <T>(method: string, path: string, body?: unknown) =>
    t.json<T>(method, path, body === undefined ? {} : { body });
  return { t, get, send };
}
export type Verbs = ReturnType<typeof createVerbs>;

export const seg = encodeURIComponent;
export const ws = (workspaceId: string) => `/v1/workspaces/${seg(workspaceId)}`;

/** What a schema gives (an answer) and takes (a request body). */
export type Out<S extends z.ZodType> = z.output<S>;
export type In<S extends z.ZodType> = z.input<S>;
