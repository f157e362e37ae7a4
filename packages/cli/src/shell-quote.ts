/**
 * A value as a POSIX shell reads it back as one word: left alone when every character is
 * safe (letters, digits and `@%+=:,./-_`), otherwise in single quotes, with each `'` written
 * as `'\''`. Every command the CLI prints for the user to paste goes through this, so an agent
 * named "J A R V I S" or a path with spaces or `$` is pasted as the one argument it is.
 */
export function shellQuote(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
