import type { SwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/* The OpenAPI document's frame (served at /v1/openapi.json); the routes fill in the paths. */

export const OPENAPI_OPTIONS: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Parley API',
      version: '1',
      description:
        'Workspaces, agents, secrets and runs. Runs stream Parley Stream v1 over SSE (docs/streaming.md). Errors are application/problem+json with a stable code (docs/api.md).',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (prl_…).' },
        session: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
  },
  transform: jsonSchemaTransform,
};
