import { createServer, type Server } from 'node:http';

/*
 * An OpenAI-compatible provider stand-in that streams one short word every 2 ms until its
 * client goes (at most 20,000): a run that is always mid-stream, for crash and cancel tests.
 * Every call after the first answers "ok" at once (the next turn of a conversation).
 */

export interface StandIn {
  baseURL: string;
  /** The messages of every request, in order. */
  requests: { role: string; content: unknown }[][];
  close(): Promise<void>;
}

/** An OpenAI-compatible provider that streams one short word at a time, for as long as asked. */
export async function slowProvider(): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const parsed = JSON.parse(body) as { messages: { role: string; content: unknown }[] };
      requests.push(parsed.messages);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }));
      // The second turn (after the restart) answers at once; the first streams until killed.
      if (requests.length > 1) {
        res.end(`${chunk({ content: 'ok' })}${chunk({}, 'stop')}data: [DONE]\n\n`);
        return;
      }
      let n = 0;
      const timer = setInterval(() => {
        if (res.destroyed || n >= 20_000) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(chunk({ content: `w${n++} ` }));
      }, 2);
      res.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
