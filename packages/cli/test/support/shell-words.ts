import { execFileSync } from 'node:child_process';

/**
 * The arguments a POSIX shell passes to `parley` when the user pastes `command` (one printed
 * line beginning with `parley`, `npx parley`, `cd` …): /bin/sh parses it, with `parley`, `npx`
 * and `cd` replaced by functions that print their arguments, one per NUL-ended record.
 */
export function shellWords(command: string): string[] {
  const script = `w() { printf '%s\\0' "$@"; }; parley() { w parley "$@"; }; npx() { w npx "$@"; }; cd() { w cd "$@"; }; npm() { w npm "$@"; }; chmod() { w chmod "$@"; }; rm() { w rm "$@"; }\n${command}`;
  const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}
