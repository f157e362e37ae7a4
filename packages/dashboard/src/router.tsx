import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/*
 * A router of a few lines: the path is the state, the History API changes it, and components
 * read it with usePath(). Links are real <a href> (open in a new tab works) that navigate in
 * place on a plain left click.
 */

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
if (typeof window !== 'undefined')
  window.addEventListener('popstate', () => {
    moved = true;
    notify();
  });

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

const current = () => `${window.location.pathname}${window.location.search}`;

/** The current path and query, e.g. `/chat/support-bot?c=…`. */
export function usePath(): { path: string; query: URLSearchParams } {
  const full = useSyncExternalStore(subscribe, current, () => '/');
  const [path = '/', search = ''] = full.split('?');
  return { path, query: new URLSearchParams(search) };
}

let moved = false;
/** Whether the person went from one page to another here (not just opened the first one). */
export function hasNavigated(): boolean {
  return moved;
}

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (to === current()) return;
  if (!options.replace) moved = true;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

/** Matches `/chat/:agent` against `/chat/bot`: `{ agent: 'bot' }`, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    const w = want[i];
    const h = have[i];
    if (w === undefined) return null;
    if (w.endsWith('?') && h === undefined) continue;
    if (h === undefined) return null;
    if (w.startsWith(':')) params[w.slice(1).replace(/\?$/, '')] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return params;
}

export function Link({
  to,
  onClick,
  ...rest
}: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
