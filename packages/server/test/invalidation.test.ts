import { createLocalBus } from '@parley/cluster';
import { describe, expect, it } from 'vitest';
import { createInvalidator, invalidationsFor } from '../src/cluster/invalidation.ts';

/*
 * What a finished request invalidates, and how an instance applies what the bus brings: its
 * own invalidations once (when sent), others' when they arrive, malformed ones never.
 */

const WS = '0d7f3c56-2f6b-4a39-9c39-4b7d8a0f1e22';

function recorder() {
  const calls: string[] = [];
  const warnings: string[] = [];
  return {
    calls,
    warnings,
    targets: {
      tokens: { clear: () => calls.push('tokens') },
      runs: {
        forgetAgents: (id: string) => calls.push(`agents:${id}`),
        forgetSecrets: (id: string) => calls.push(`secrets:${id}`),
      },
      log: { warn: (_: object, message: string) => warnings.push(message), info: () => {} },
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('invalidationsFor', () => {
  const of = (
    operation: string,
    method = 'POST',
    status = 200,
    workspaceId: string | undefined = WS,
  ) => invalidationsFor({ operation, method, status, workspaceId }).map((i) => i.type);

  it('maps each kind of change to what it invalidates', () => {
    expect(of('revokeToken', 'DELETE')).toEqual(['invalidate.tokens', 'invalidate.agents']);
    expect(of('revokeAllTokens')).toEqual(['invalidate.tokens', 'invalidate.agents']);
    expect(of('setMemberRole', 'PUT')).toContain('invalidate.tokens');
    expect(of('putSecret', 'PUT')).toEqual(['invalidate.secrets', 'invalidate.agents']);
    expect(of('deployAgent')).toEqual(['invalidate.agents']);
    expect(of('startRun')).toEqual([]);
    expect(of('listAgents', 'GET')).toEqual([]);
  });

  it('drops no token check for a refused change, nor a workspace cache without a workspace', () => {
    expect(of('revokeToken', 'DELETE', 403)).toEqual(['invalidate.agents']);
    expect(
      invalidationsFor({
        operation: 'deployAgent',
        method: 'POST',
        status: 200,
        workspaceId: undefined,
      }),
    ).toEqual([]);
  });
});

describe('the invalidator', () => {
  it('applies its own at once and once; others’ when they arrive; malformed ones never', async () => {
    const bus = createLocalBus();
    const [mine, theirs] = [recorder(), recorder()];
    const a = createInvalidator(bus, mine.targets);
    createInvalidator(bus, theirs.targets);

    a.invalidate({ type: 'invalidate.agents', workspaceId: WS });
    expect(mine.calls).toEqual([`agents:${WS}`]);
    expect(theirs.calls).toEqual([]);
    await settle();
    expect(mine.calls).toEqual([`agents:${WS}`]);
    expect(theirs.calls).toEqual([`agents:${WS}`]);

    bus.publish({ type: 'invalidate.secrets', from: 'x', workspaceId: 'not-a-uuid' });
    bus.publish({ type: 'invalidate.tokens', from: 'x', extra: true });
    bus.publish({ type: 'run.stored', runId: 'r', seq: 1 });
    await settle();
    expect(theirs.calls).toEqual([`agents:${WS}`]);
    expect(theirs.warnings).toEqual([
      'ignored a malformed invalidation from the bus',
      'ignored a malformed invalidation from the bus',
    ]);
    await bus.close();
  });
});
