import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/*
 * Argon2id password hashes in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`),
 * with Node's built-in argon2 (no native addon). Parameters are the OWASP minimum
 * (19 MiB, 2 passes, 1 lane): about 25 ms here. The PHC string records them, so they can be
 * raised later and old hashes still verify.
 */

const argon2Async = promisify(argon2);

const PARAMS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

async function derive(
  password: string,
  nonce: Buffer,
  p: { memory: number; passes: number; parallelism: number; tagLength: number },
): Promise<Buffer> {
  return argon2Async('argon2id', { message: password, nonce, ...p });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const tag = await derive(password, salt, PARAMS);
  return `$argon2id$v=19$m=${PARAMS.memory},t=${PARAMS.passes},p=${PARAMS.parallelism}$${b64(salt)}$${b64(tag)}`;
}

/** A hash of nothing in particular, verified when the account does not exist (same timing). */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

/** Constant-time comparison; false for a malformed hash (never throws on user input). */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC.exec(phc);
  if (!m) return false;
  const [, memory, passes, parallelism, salt, hash] = m;
  const expected = Buffer.from(hash!, 'base64');
  let actual: Buffer;
  try {
    actual = await derive(password, Buffer.from(salt!, 'base64'), {
      memory: Number(memory),
      passes: Number(passes),
      parallelism: Number(parallelism),
      tagLength: expected.length,
    });
  } catch {
    // Parameters argon2 refuses (a salt or tag too short, zero passes…): not a valid hash.
    return false;
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True when the hash uses weaker parameters than today's (rehash after a successful login). */
export function needsRehash(phc: string): boolean {
  const m = PHC.exec(phc);
  if (!m) return true;
  return Number(m[1]) < PARAMS.memory || Number(m[2]) < PARAMS.passes;
}
