import {
  type ChatRef,
  type PlatformOutput,
  PlatformRateLimited,
  type ReplyButton,
  type SentMessage,
} from '@parley/core';
import { splitMessage } from './split.ts';

/** Longest wait a platform's 429 may impose before the writer gives the answer up. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Calls the platform, waiting out its 429s (`retry_after`) and trying again: a rate limit
 * delays an answer, it never drops it.
 */
export async function withRetryAfter<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof PlatformRateLimited) || attempt >= 5) throw error;
      if (error.retryAfterMs > MAX_RETRY_AFTER_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
    }
  }
}

/**
 * The model's answer written on the platform as it streams: one message sent at the first
 * words, then edited as more arrive, at most once per the platform's edit interval; past the
 * platform's length limit the answer goes on in a new message. `seal` ends a segment (before
 * an approval prompt), so what comes after it is written below the prompt.
 */
export function createReplyWriter(output: PlatformOutput, chat: ChatRef) {
  let markdown = '';
  let sent: { message: SentMessage; shown: string }[] = [];
  let lastWriteAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failed: unknown;

  /** The answer so far as platform messages, each within the platform's limit once formatted. */
  function pieces(): string[] {
    let budget = output.maxLength;
    for (;;) {
      const formatted = splitMessage(markdown, budget).map((piece) => output.format(piece));
      const measure = output.measure ?? ((piece: string) => piece.length);
      if (formatted.every((piece) => measure(piece) <= output.maxLength) || budget < 64)
        return formatted;
      // Formatting lengthened a piece (entities, escapes): cut smaller pieces.
      budget = Math.floor(budget * 0.9);
    }
  }

  async function write(): Promise<void> {
    lastWriteAt = Date.now();
    if (markdown.trim() === '') return;
    const target = pieces();
    for (const [index, text] of target.entries()) {
      const existing = sent[index];
      if (existing?.shown === text) continue;
      if (existing) {
        await withRetryAfter(() => output.edit(chat, existing.message, text));
        existing.shown = text;
      } else {
        const message = await withRetryAfter(() => output.send(chat, text));
        sent.push({ message, shown: text });
      }
    }
    lastWriteAt = Date.now();
  }

  /** Queues a write; writes never overlap, so edits land in order. */
  function enqueue(): Promise<void> {
    writing = writing.then(write).catch((error: unknown) => {
      failed ??= error;
    });
    return writing;
  }

  function schedule() {
    if (timer) return;
    const due = Math.max(0, lastWriteAt + output.editIntervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void enqueue();
    }, due);
  }

  async function drain() {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    await writing;
    const due = lastWriteAt + output.editIntervalMs - Date.now();
    if (due > 0 && sent.length > 0) await new Promise((resolve) => setTimeout(resolve, due));
    await enqueue();
  }

  return {
    append(delta: string) {
      markdown += delta;
      schedule();
    },
    /** Writes what is left of the current segment and starts a new one. */
    async seal() {
      await drain();
      markdown = '';
      sent = [];
    },
    /** Sends a message of its own with buttons (an approval prompt). */
    async prompt(text: string, buttons: ReplyButton[]): Promise<SentMessage> {
      await writing;
      return withRetryAfter(() => output.send(chat, output.format(text), buttons));
    },
    /** Writes the rest of the answer; rejects with the first write that failed. */
    async finish(): Promise<void> {
      await drain();
      if (failed) throw failed;
    },
    /** Whether any part of the answer reached the platform. */
    get started() {
      return sent.length > 0;
    },
  };
}
