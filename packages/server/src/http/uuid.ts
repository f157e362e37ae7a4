import { z } from 'zod';

/** Built once: a request's ids are checked on every route, and building a schema costs more than the check. */
const UUID = z.uuid();

/** Whether `value` is a UUID as the store's ids are (a path parameter that may instead be a name). */
export const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && UUID.safeParse(value).success;
