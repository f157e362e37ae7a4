import { describe, expect, it } from 'vitest';
import { redactUrl, UNREACHABLE_ERRNOS } from '../src/connection.ts';

describe('connection facts', () => {
  it('shows a database URL without its password', () => {
    expect(
      redactUrl('postgres://parley_api:s3cr%40t@db.internal:5433/parley?sslmode=require'),
    ).toBe('postgres://parley_api@db.internal:5433/parley');
    expect(redactUrl('postgres://db/parley')).toBe('postgres://db/parley');
    expect(redactUrl('not a url :s3cret')).toBe('the configured URL');
  });

  it('one list of unreachable errnos for connecting and for diagnosing (it had drifted)', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
      expect(UNREACHABLE_ERRNOS.has(code)).toBe(true);
    expect(UNREACHABLE_ERRNOS.has('28P01')).toBe(false);
  });
});
