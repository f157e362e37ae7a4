import type { Io } from './io.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Shows a spinner on stderr (terminals only) if `work` takes longer than a second, then
 * clears it. Output on stdout is never mixed with it.
 */
export async function withProgress<T>(io: Io, label: string, work: Promise<T>): Promise<T> {
  if (!io.stderr.isTTY) return work;
  let frame = 0;
  let shown = false;
  const tick = () => {
    shown = true;
    io.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}…`);
  };
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    tick();
    interval = setInterval(tick, 80);
  }, 1_000);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    if (interval) clearInterval(interval);
    if (shown) io.stderr.write('\r\x1b[2K');
  }
}
