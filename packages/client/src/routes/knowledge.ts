import type { api } from '@parley/protocol';
import { type In, type Out, seg, type Verbs, ws } from './verbs.ts';

type Base = Out<typeof api.KnowledgeBaseSchema>;
type Document = Out<typeof api.KnowledgeDocumentSchema>;

/** Knowledge bases and their documents (docs/memory.md, "Knowledge"). */
export function knowledgeRoutes({ get, send }: Verbs) {
  const base = (workspaceId: string, name: string) =>
    `${ws(workspaceId)}/knowledge-bases/${seg(name)}`;
  return {
    knowledge: {
      list: (workspaceId: string) => get<Base[]>(`${ws(workspaceId)}/knowledge-bases`),
      /** By name or id. */
      get: (workspaceId: string, name: string) => get<Base>(base(workspaceId, name)),
      /** Creates the base of that name (an agent's own with `agent`), or returns it. */
      put: (
        workspaceId: string,
        name: string,
        body: In<typeof api.PutKnowledgeBaseRequestSchema> = {},
      ) => send<Base>('PUT', base(workspaceId, name), body),
      delete: (workspaceId: string, name: string) => send<void>('DELETE', base(workspaceId, name)),
      documents: (workspaceId: string, name: string) =>
        get<Document[]>(`${base(workspaceId, name)}/documents`),
      /** Adds a document (`text`, or `base64` for a PDF), or replaces the one of that name. */
      putDocument: (
        workspaceId: string,
        name: string,
        body: In<typeof api.PutKnowledgeDocumentRequestSchema>,
      ) =>
        send<Out<typeof api.PutKnowledgeDocumentResponseSchema>>(
          'PUT',
          `${base(workspaceId, name)}/documents`,
          body,
        ),
      deleteDocument: (workspaceId: string, name: string, documentId: string) =>
        send<void>('DELETE', `${base(workspaceId, name)}/documents/${seg(documentId)}`),
      /** The chunks a run would retrieve for a query, best first. */
      search: (
        workspaceId: string,
        name: string,
        body: In<typeof api.KnowledgeSearchRequestSchema>,
      ) =>
        send<Out<typeof api.KnowledgeSearchResponseSchema>>(
          'POST',
          `${base(workspaceId, name)}/search`,
          body,
        ),
    },
  };
}
