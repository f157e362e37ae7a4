import { ERROR_CODES, errorCodeInfo, type HttpErrorCode } from '@parley/protocol';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { errorFromResponse, type ParleyApiError, type ParleyApiErrorCode } from '../src/index.ts';

// ParleyApiError.code is typed from the error-code table: a client branches on it with the
// compiler checking the names, and looks a code up in the same table.
const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 't', status, code }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

describe('typed error codes', () => {
  it('types the code as the table’s HTTP codes (or http.<status>)', async () => {
    const error = await errorFromResponse(problem(409, 'store.conflict'));
    expectTypeOf(error.code).toEqualTypeOf<ParleyApiErrorCode>();
    expectTypeOf<HttpErrorCode>().toExtend<ParleyApiErrorCode>();
    const branch = (e: ParleyApiError) => (e.code === 'store.conflict' ? 'taken' : 'other');
    expect(branch(error)).toBe('taken');
    expect(errorCodeInfo(error.code)).toEqual(ERROR_CODES['store.conflict']);
    expect(errorCodeInfo(error.code)?.status).toBe(error.status);
  });

  it('says http.<status> for an answer that is not problem+json', async () => {
    const error = await errorFromResponse(
      new Response('<html>bad gateway</html>', { status: 502 }),
    );
    expect(error.code).toBe('http.502');
    expect(errorCodeInfo(error.code)).toBeUndefined();
  });
});
