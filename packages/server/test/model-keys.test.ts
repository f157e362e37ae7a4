import { openStore, type Store } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector } from '../src/detect/detector.ts';
import { createModelKeys } from '../src/runs/model-keys.ts';

/*
 * Runs that miss the model-key cache together (a burst after a quiet minute) share one read
 * of the vault: one decryption, one audit entry, instead of one per run queued behind the
 * secret row's lock. A change of the workspace's secrets is never hidden by a read under way.
 */
describe('model keys for a burst of runs', () => {
  let store: Store;
  let workspaceId: string;
  const scope = { actor: { type: 'system' as const } };
  const decrypts = () =>
    store.withWorkspace(
      workspaceId,
      async (ws) => (await ws.audit.list({ action: 'secret.decrypt' })).length,
    );

  beforeAll(async () => {
    store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 6).toString('base64') });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
    await store.withWorkspace(workspaceId, (ws) =>
      ws.secrets.put('MODEL_KEY', 'sk-one-0000000000'),
    );
  });
  afterAll(async () => {
    await store?.close();
  });

  it('decrypts a key once for 20 runs asking at the same moment', async () => {
    const keys = createModelKeys({ store, detector: createDetector({ store }) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        keys.forSecrets(workspaceId, ['MODEL_KEY', 'ABSENT'], scope),
      ),
    );
    expect(
      answers.every((a) => a.get('MODEL_KEY') === 'sk-one-0000000000' && !a.has('ABSENT')),
    ).toBe(true);
    expect(await decrypts()).toBe(1);
    // Cached: the next run reads nothing.
    await keys.forSecrets(workspaceId, ['MODEL_KEY'], scope);
    expect(await decrypts()).toBe(1);
  });

  it('reads a changed key again, even when the change lands during a read', async () => {
    const keys = createModelKeys({ store, detector: createDetector({ store }) });
    const before = await decrypts();
    const reading = keys.forSecrets(workspaceId, ['MODEL_KEY'], scope);
    await store.withWorkspace(workspaceId, (ws) =>
      ws.secrets.put('MODEL_KEY', 'sk-two-0000000000'),
    );
    keys.forget(workspaceId); // what the server does when a secret is written
    await reading;
    const after = await keys.forSecrets(workspaceId, ['MODEL_KEY'], scope);
    expect(after.get('MODEL_KEY')).toBe('sk-two-0000000000');
    expect(await decrypts()).toBe(before + 2);
  });
});
