import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

/*
 * A plain useChat page (the AI SDK's React hook and its default transport) talking to a
 * Parley agent through the page's own origin (the test's server adds the token, as an app's
 * backend would): ?workspace=…&agent=…&chat=… pick the chat. Used by use-chat.spec.ts.
 */

const query = new URLSearchParams(location.search);
const workspace = query.get('workspace') ?? '';
const agent = query.get('agent') ?? '';
const chatId = query.get('chat') ?? 'chat';

function Part({ part }: { part: UIMessage['parts'][number] }) {
  if (part.type === 'text') return <p data-part="text">{part.text}</p>;
  if (part.type.startsWith('tool-') && 'state' in part) {
    const output = part.state === 'output-available' ? JSON.stringify(part.output) : '';
    return (
      <div data-part="tool" data-state={part.state}>
        {part.type.slice('tool-'.length)} {part.state} {output}
      </div>
    );
  }
  return null;
}

function Chat() {
  const [input, setInput] = useState('');
  const { messages, sendMessage, status, stop, error } = useChat({
    id: chatId,
    resume: true,
    transport: new DefaultChatTransport({
      api: `/v1/workspaces/${workspace}/agents/${agent}/chat`,
    }),
  });
  const stopRun = async () => {
    await stop();
    // Closing the stream does not end a Parley run (a reload resumes it): cancel it too.
    const last = messages.findLast((m) => m.role === 'assistant');
    const runId = (last?.metadata as { runId?: string } | undefined)?.runId;
    if (runId) await fetch(`/v1/runs/${runId}/cancel`, { method: 'POST' });
  };
  return (
    <main>
      <div data-testid="status">{status}</div>
      {error ? <div data-testid="error">{error.message}</div> : null}
      {messages.map((message) => (
        <section key={message.id} data-role={message.role}>
          {message.parts.map((part, i) => (
            <Part key={i} part={part} />
          ))}
        </section>
      ))}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void sendMessage({ text: input });
          setInput('');
        }}
      >
        <input aria-label="message" value={input} onChange={(e) => setInput(e.target.value)} />
        <button type="submit">Send</button>
        <button type="button" onClick={() => void stopRun()}>
          Stop
        </button>
      </form>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<Chat />);
