import { randomUUID } from 'node:crypto';
import type { Bus } from '@parley/cluster';
import { RUN_STATUS_NAMES } from '@parley/protocol';
import { z } from 'zod';

/** What one instance may ask the instance executing a run to do. */
export const RunCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cancel'), by: z.string().max(200) }),
  z.object({
    kind: z.literal('decide'),
    toolCallId: z.string().min(1).max(200),
    decision: z.enum(['approved', 'denied']),
  }),
]);
export type RunCommand = z.infer<typeof RunCommandSchema>;

/** The executing instance's answer: whether the run took the command, and where it stands. */
export const RunReplySchema = z.object({
  taken: z.boolean(),
  status: z.enum(RUN_STATUS_NAMES).optional(),
});
export type RunReply = z.infer<typeof RunReplySchema>;

const CommandMessage = z.object({
  type: z.literal('run.command'),
  id: z.uuid(),
  from: z.string().min(1).max(200),
  workspaceId: z.uuid(),
  runId: z.uuid(),
  command: RunCommandSchema,
});
const ReplyMessage = z.object({
  type: z.literal('run.reply'),
  id: z.uuid(),
  to: z.string().min(1).max(200),
  reply: RunReplySchema,
});
/** `run.locate`: which instance executes this run, and in which workspace? */
const LocateMessage = z.object({
  type: z.literal('run.locate'),
  id: z.uuid(),
  from: z.string().min(1).max(200),
  runId: z.uuid(),
});
const LocatedMessage = z.object({
  type: z.literal('run.located'),
  id: z.uuid(),
  to: z.string().min(1).max(200),
  workspaceId: z.uuid(),
});

export interface RunCommandsOptions {
  bus: Bus;
  instanceId: string;
  /**
   * Applies a command to a run this instance executes (in that workspace); undefined when it
   * executes no such run (another instance will answer, or nobody).
   */
  handle(workspaceId: string, runId: string, command: RunCommand): Promise<RunReply | undefined>;
  /** The workspace of a run this instance executes; undefined when it executes no such run. */
  workspaceOf(runId: string): string | undefined;
}

/**
 * Cancel and approvals from any instance: the instance that took the request asks over the
 * bus, the one executing the run applies it and answers. Messages come from the network (the
 * bus), so both sides validate them; the asking instance has already checked the caller's
 * right to the run, and the executing one checks the run is in the named workspace.
 */
export function createRunCommands(options: RunCommandsOptions) {
  const { bus, instanceId } = options;
  const pending = new Map<string, (reply: RunReply) => void>();
  const locating = new Map<string, (workspaceId: string) => void>();

  bus.subscribe((message) => {
    if (message.type === 'run.reply') {
      const parsed = ReplyMessage.safeParse(message);
      if (parsed.success && parsed.data.to === instanceId)
        pending.get(parsed.data.id)?.(parsed.data.reply);
      return;
    }
    if (message.type === 'run.located') {
      const parsed = LocatedMessage.safeParse(message);
      if (parsed.success && parsed.data.to === instanceId)
        locating.get(parsed.data.id)?.(parsed.data.workspaceId);
      return;
    }
    if (message.type === 'run.locate') {
      const parsed = LocateMessage.safeParse(message);
      if (!parsed.success || parsed.data.from === instanceId) return;
      const workspaceId = options.workspaceOf(parsed.data.runId);
      if (workspaceId)
        bus.publish({ type: 'run.located', id: parsed.data.id, to: parsed.data.from, workspaceId });
      return;
    }
    if (message.type !== 'run.command') return;
    const parsed = CommandMessage.safeParse(message);
    if (!parsed.success || parsed.data.from === instanceId) return;
    const { id, from, workspaceId, runId, command } = parsed.data;
    void options.handle(workspaceId, runId, command).then(
      (reply) => {
        if (reply) bus.publish({ type: 'run.reply', id, to: from, reply });
      },
      () => {},
    );
  });

  return {
    /** Asks the run's instance; undefined when none answered in time (none executes it). */
    ask(
      workspaceId: string,
      runId: string,
      command: RunCommand,
      timeoutMs = 1_500,
    ): Promise<RunReply | undefined> {
      if (bus.kind === 'local' || !bus.status().up) return Promise.resolve(undefined);
      const id = randomUUID();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve(undefined);
        }, timeoutMs);
        timer.unref();
        pending.set(id, (reply) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(reply);
        });
        bus.publish({ type: 'run.command', id, from: instanceId, workspaceId, runId, command });
      });
    },

    /**
     * The workspace of a run another instance executes, from that instance; undefined when
     * none answered in time (none executes it, or the bus is down).
     */
    locate(runId: string, timeoutMs: number): Promise<string | undefined> {
      if (bus.kind === 'local' || !bus.status().up) return Promise.resolve(undefined);
      const id = randomUUID();
      return new Promise((resolve) => {
        const done = (workspaceId: string | undefined) => {
          clearTimeout(timer);
          locating.delete(id);
          resolve(workspaceId);
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        timer.unref();
        locating.set(id, done);
        bus.publish({ type: 'run.locate', id, from: instanceId, runId });
      });
    },
  };
}

export type RunCommands = ReturnType<typeof createRunCommands>;
