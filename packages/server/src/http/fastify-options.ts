import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ServerConfig } from '../config.ts';
import { HttpProblem, sendProblem } from './problem.ts';

/*
 * How Fastify is set up: the logger, the one trusted proxy hop, limits, zod's compilers, and
 * problem+json for requests refused before routing or by Node's HTTP parser.
 */

export function fastifyOptions(
  config: ServerConfig,
  logger: boolean | Record<string, unknown> | FastifyBaseLogger,
): FastifyServerOptions & { loggerInstance?: FastifyBaseLogger } {
  return {
    ...(typeof logger === 'object' && 'child' in logger
      ? { loggerInstance: logger as FastifyBaseLogger }
      : { logger: logger as boolean | Record<string, unknown> }),
    // The proxy in front is one hop: its own X-Forwarded-For entry (the last) is the client.
    // Trusting every hop would take the first entry, which any client writes itself (a forged
    // `X-Forwarded-For: 127.0.0.1` would pass for loopback, and rate limits and audit
    // addresses would be whatever the client says).
    trustProxy: config.behindTlsProxy ? (_address: string, hop: number) => hop === 0 : false,
    bodyLimit: 1024 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
    // Every route's schemas are zod's (the compilers set below): without these factories Fastify
    // loads its default ajv and fast-json-stringify compilers (~100 modules) at every start.
    // (Fastify types the factories for ajv; it only calls what they return, per route.)
    schemaController: {
      compilersFactory: {
        buildValidator: (() => validatorCompiler) as never,
        buildSerializer: (() => serializerCompiler) as never,
      },
    },
    forceCloseConnections: 'idle',
    // Requests refused before routing (a malformed percent escape, an overlong path parameter)
    // get problem+json like everything else.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const problem =
        status === 414
          ? new HttpProblem('request.uri_too_long', 'The URL is too long.')
          : new HttpProblem('request.invalid', `The URL is not valid: ${error.message}.`, {
              status: status >= 400 && status < 500 ? status : 400,
            });
      void sendProblem(reply, request, problem);
    },
    // Requests Node's HTTP parser refuses (raw non-ASCII bytes in the path, a broken header)
    // never reach Fastify: answer them here, in the same format.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy();
      const code = (error as { code?: string }).code;
      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({
        type: `https://parley.dev/problems/request/${status === 431 ? 'headers_too_large' : 'invalid'}`,
        title: status === 431 ? 'Request header fields too large' : 'Bad request',
        status,
        code: status === 431 ? 'request.headers_too_large' : 'request.invalid',
        detail: 'The HTTP request could not be parsed.',
      });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
      );
    },
  };
}
