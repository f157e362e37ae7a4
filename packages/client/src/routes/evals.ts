import type { api } from '@parley/protocol';
import { type In, type Out, seg, type Verbs, ws } from './verbs.ts';

type Result = Out<typeof api.EvalResultSchema>;

/** Eval results of an agent (docs/evals.md): `parley eval` stores and compares them. */
export function evalRoutes({ get, send }: Verbs) {
  const evals = (workspaceId: string, agent: string) =>
    `${ws(workspaceId)}/agents/${seg(agent)}/evals`;
  return {
    evals: {
      /** Newest first; of one dataset with `dataset`. */
      list: (
        workspaceId: string,
        agent: string,
        query: { dataset?: string; limit?: number } = {},
      ) => get<Result[]>(evals(workspaceId, agent), query),
      create: (
        workspaceId: string,
        agent: string,
        body: In<typeof api.CreateEvalResultRequestSchema>,
      ) => send<Result>('POST', evals(workspaceId, agent), body),
    },
  };
}
