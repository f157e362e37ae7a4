import type { ParleyClient } from '@parley/client';
import { type ChangeEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Time } from '../components/time.tsx';
import { ACCEPTED, documentBody } from './document-file.ts';

export type KnowledgeBase = Awaited<ReturnType<ParleyClient['knowledge']['list']>>[number];

/** One picked file on its way into the base. */
interface Upload {
  name: string;
  state: 'waiting' | 'uploading' | 'added' | 'unchanged' | 'failed';
  detail?: string;
}

const MEDIA_LABELS: Record<string, string> = {
  'text/plain': 'text',
  'text/markdown': 'Markdown',
  'text/html': 'HTML',
  'application/pdf': 'PDF',
};

const STATE_BADGES: Record<Upload['state'], string> = {
  waiting: '',
  uploading: 'badge-warning',
  added: 'badge-succeeded',
  unchanged: 'badge-succeeded',
  failed: 'badge-failed',
};

/** A knowledge base: its documents (delete one), and files added from the browser. */
export function BaseCard({ base, agentName }: { base: KnowledgeBase; agentName?: string }) {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const documents = useResource(
    () => api.knowledge.documents(workspace.id, base.id),
    [api, workspace.id, base.id],
  );
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const writable = can('memories:write');
  const busy = uploads.some((u) => u.state === 'waiting' || u.state === 'uploading');

  // One file at a time, as the CLI does: each request is up to 1 MiB and the server embeds it.
  const add = async (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    event.target.value = '';
    if (files.length === 0) return;
    const list: Upload[] = files.map((f) => ({ name: f.name, state: 'waiting' }));
    const set = (i: number, upload: Upload) => {
      list[i] = upload;
      setUploads([...list]);
    };
    setUploads([...list]);
    for (const [i, file] of files.entries()) {
      set(i, { name: file.name, state: 'uploading' });
      const body = await documentBody(file);
      if (typeof body === 'string') {
        set(i, { name: file.name, state: 'failed', detail: body });
        continue;
      }
      try {
        const added = await api.knowledge.putDocument(workspace.id, base.id, body);
        set(i, {
          name: file.name,
          state: added.changed ? 'added' : 'unchanged',
          detail: added.changed
            ? `version ${added.document.version}, ${added.document.chunkCount} chunks${added.embeddingModel ? '' : ' (full-text only)'}`
            : 'same content as before',
        });
      } catch (caught) {
        set(i, { name: file.name, state: 'failed', detail: (caught as Error).message });
      }
    }
    await documents.reload();
  };

  const remove = async (id: string, name: string) => {
    if (!window.confirm(`Delete ${name} from ${base.name}? Agents stop finding it.`)) return;
    setError(undefined);
    try {
      await api.knowledge.deleteDocument(workspace.id, base.id, id);
      await documents.reload();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <li className="card">
      <div className="card-head">
        <h2>
          <code>{base.name}</code>
        </h2>
        <span className="badge">{agentName ? `${agentName}'s own` : 'shared'}</span>
        <span className="muted small">
          {base.embeddingModel ? `embedded with ${base.embeddingModel}` : 'full-text only'}
        </span>
      </div>
      {base.description ? <p>{base.description}</p> : null}
      {error ? <ErrorBanner error={error} /> : null}
      {documents.error ? (
        <ErrorBanner error={documents.error} onRetry={() => void documents.reload()} />
      ) : null}
      {documents.data?.length === 0 ? <p className="muted">No documents yet.</p> : null}
      {documents.data && documents.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Documents of {base.name}</caption>
            <thead>
              <tr>
                <th scope="col">Document</th>
                <th scope="col">Format</th>
                <th scope="col">Version</th>
                <th scope="col">Chunks</th>
                <th scope="col">Updated</th>
                {writable ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {documents.data.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <code>{d.name}</code>
                  </th>
                  <td>{MEDIA_LABELS[d.mediaType] ?? d.mediaType}</td>
                  <td>{d.version}</td>
                  <td>{d.chunkCount}</td>
                  <td>
                    <Time iso={d.updatedAt} />
                  </td>
                  {writable ? (
                    <td>
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={`Delete ${d.name}`}
                        onClick={() => void remove(d.id, d.name)}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {writable ? (
        <label className="button small">
          {busy ? 'Adding…' : 'Add documents'}
          <input
            type="file"
            multiple
            accept={ACCEPTED}
            className="visually-hidden"
            disabled={busy}
            onChange={(event) => void add(event)}
          />
        </label>
      ) : null}
      {uploads.length > 0 ? (
        <ul className="small" aria-label={`Uploads to ${base.name}`}>
          {uploads.map((u, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: two picked files may share a name
            <li key={i}>
              <code>{u.name}</code>{' '}
              <span className={`badge ${STATE_BADGES[u.state]}`}>{u.state}</span>
              {u.detail ? <span className="muted"> {u.detail}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}
