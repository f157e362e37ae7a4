import { describe, expect, it } from 'vitest';
import { decodeApproval, encodeApproval } from '../src/channels/approvals.ts';
import { slackMrkdwn } from '../src/channels/slack/format.ts';
import { signSlack, verifySlackSignature } from '../src/channels/slack/signature.ts';
import { splitMessage } from '../src/channels/split.ts';
import { telegramHtml } from '../src/channels/telegram/format.ts';

/* The channels' pure parts: Markdown per platform, splitting, button data, Slack signatures. */

const MD =
  '# Title\nHello **there** & *you*, see [docs](https://x.y/?a=1&b=2) `a<b` ~~no~~ snake_case_name\n```ts\nif (a < b) {}\n```\ndone';

describe('channel formats', () => {
  it('converts Markdown to Telegram HTML, escaping text and code', () => {
    expect(telegramHtml(MD)).toBe(
      '<b>Title</b>\nHello <b>there</b> &amp; <i>you</i>, see <a href="https://x.y/?a=1&amp;b=2">docs</a> <code>a&lt;b</code> <s>no</s> snake_case_name\n<pre><code class="language-ts">if (a &lt; b) {}</code></pre>\ndone',
    );
  });

  it('converts Markdown to Slack mrkdwn, bold never read again as italics', () => {
    expect(slackMrkdwn(MD)).toBe(
      '*Title*\nHello *there* &amp; _you_, see <https://x.y/?a=1&amp;b=2|docs> `a&lt;b` ~no~ snake_case_name\n```if (a &lt; b) {}```\ndone',
    );
  });

  it('splits at a break before the limit, losing nothing', () => {
    const text = `${'a'.repeat(30)}\n\n${'b '.repeat(40)}`;
    const pieces = splitMessage(text, 50);
    expect(pieces.join('')).toBe(text);
    expect(pieces[0]).toBe(`${'a'.repeat(30)}\n\n`);
    expect(pieces.every((p) => p.length <= 50)).toBe(true);
    expect(splitMessage('x'.repeat(120), 50).map((p) => p.length)).toEqual([50, 50, 20]);
    expect(splitMessage('', 50)).toEqual(['']);
  });

  it('packs an approval into Telegram’s 64 bytes of callback data and back', () => {
    const key = {
      decision: 'denied' as const,
      runId: '0d5b1c9e-8a4f-4c3e-9b2a-1f6e7d8c9b0a',
      index: 3,
    };
    const data = encodeApproval(key);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(decodeApproval(data)).toEqual(key);
    expect(decodeApproval('y:short:1')).toBeUndefined();
  });

  it('checks Slack’s v0 signature and its age', () => {
    const now = 1_800_000_000_000;
    const ts = String(now / 1000);
    const body = '{"type":"event_callback"}';
    const headers = {
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlack('s3cret', ts, body),
    };
    expect(verifySlackSignature('s3cret', headers, body, now)).toBe(true);
    expect(verifySlackSignature('other', headers, body, now)).toBe(false);
    expect(verifySlackSignature('s3cret', headers, `${body} `, now)).toBe(false);
    expect(verifySlackSignature('s3cret', headers, body, now + 301_000)).toBe(false);
  });
});
