/*
 * Discord's Gateway (https://discord.com/developers/docs/events/gateway): a WebSocket the bot
 * holds open. HELLO says how often to heartbeat; IDENTIFY starts a session (READY gives its id
 * and the URL to resume on); every dispatch carries a sequence number; when the socket drops,
 * RESUME on the resume URL with the session id and the last sequence replays what was missed
 * (RESUMED). RECONNECT asks for exactly that; INVALID_SESSION (not resumable) starts over. A
 * heartbeat not acknowledged before the next one means a dead connection: close and resume.
 */

const OP = {
  DISPATCH: 0,
  HEARTBEAT: 1,
  IDENTIFY: 2,
  RESUME: 6,
  RECONNECT: 7,
  INVALID_SESSION: 9,
  HELLO: 10,
  HEARTBEAT_ACK: 11,
} as const;

/** Close codes after which trying again cannot help (bad token, intents not allowed, …). */
const FATAL = new Set([4004, 4010, 4011, 4012, 4013, 4014]);
/** Our own close that keeps the session resumable (1000 and 1001 would end it). */
const RESUME_CLOSE = 4000;

/** GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT (privileged: enabled in the portal). */
export const DISCORD_INTENTS = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

export interface GatewayOptions {
  url: string;
  token: string;
  intents: number;
  signal: AbortSignal;
  /** Each dispatch, in order (the next waits for this one). */
  dispatch(type: string, data: unknown): Promise<void>;
  connected(): void;
}

interface Session {
  id: string;
  resumeUrl: string;
}

/** Holds the gateway until the signal aborts; resumes across dropped connections. */
export async function holdGateway(options: GatewayOptions): Promise<void> {
  const state: { session?: Session; seq: number | null } = { seq: null };
  let failures = 0;
  while (!options.signal.aborted) {
    const url = state.session?.resumeUrl ?? options.url;
    const code = await connectOnce(options, url, state, () => {
      failures = 0;
    });
    if (options.signal.aborted) return;
    if (FATAL.has(code)) throw new Error(`Discord closed the gateway with ${code}`);
    const wait = Math.min(30_000, 250 * 2 ** Math.min(failures++, 7));
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function connectOnce(
  options: GatewayOptions,
  url: string,
  state: { session?: Session; seq: number | null },
  healthy: () => void,
): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url.replace(/\/+$/, '')}/?v=10&encoding=json`);
    const send = (op: number, d: unknown) => socket.send(JSON.stringify({ op, d }));
    let beat: NodeJS.Timeout | undefined;
    let acknowledged = true;
    let queue = Promise.resolve();
    const stop = () => socket.close(1000);
    options.signal.addEventListener('abort', stop);

    const heartbeat = () => {
      // No ACK since the last heartbeat: the connection is a zombie.
      if (!acknowledged) return socket.close(RESUME_CLOSE);
      acknowledged = false;
      send(OP.HEARTBEAT, state.seq);
    };

    socket.onmessage = (message) => {
      const payload = JSON.parse(String(message.data)) as {
        op: number;
        d: unknown;
        s?: number | null;
        t?: string | null;
      };
      if (typeof payload.s === 'number') state.seq = payload.s;
      switch (payload.op) {
        case OP.HELLO: {
          const interval = (payload.d as { heartbeat_interval: number }).heartbeat_interval;
          beat = setInterval(heartbeat, interval);
          if (state.session)
            send(OP.RESUME, { token: options.token, session_id: state.session.id, seq: state.seq });
          else
            send(OP.IDENTIFY, {
              token: options.token,
              intents: options.intents,
              properties: { os: process.platform, browser: 'parley', device: 'parley' },
            });
          return;
        }
        case OP.HEARTBEAT_ACK:
          acknowledged = true;
          return;
        case OP.HEARTBEAT:
          send(OP.HEARTBEAT, state.seq);
          return;
        case OP.RECONNECT:
          socket.close(RESUME_CLOSE);
          return;
        case OP.INVALID_SESSION:
          if (!payload.d) {
            state.session = undefined;
            state.seq = null;
          }
          socket.close(RESUME_CLOSE);
          return;
        case OP.DISPATCH: {
          const type = payload.t ?? '';
          if (type === 'READY') {
            const ready = payload.d as { session_id: string; resume_gateway_url: string };
            state.session = { id: ready.session_id, resumeUrl: ready.resume_gateway_url };
          }
          if (type === 'READY' || type === 'RESUMED') {
            healthy();
            options.connected();
          }
          queue = queue.then(() => options.dispatch(type, payload.d)).catch(() => {});
          return;
        }
      }
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      clearInterval(beat);
      options.signal.removeEventListener('abort', stop);
      resolve(event.code);
    };
  });
}
