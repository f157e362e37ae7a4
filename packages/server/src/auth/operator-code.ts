import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { isStoreError, type Store, type User } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config.ts';
import type { Detector } from '../detect/detector.ts';
import { HttpProblem } from '../http/problem.ts';

/*
 * Instance operators are confirmed, never made by a claimed address alone: an address in
 * PARLEY_OPERATOR_EMAILS used to make whoever signed up first with it an operator (issue 30).
 * The person must also show a one-time code that only whoever runs the server can know: one
 * printed in the server's log at start, or PARLEY_OPERATOR_CODE from its environment. Codes
 * live here only as SHA-256 digests, are compared in constant time, confirm one person once
 * (the store keeps the digest, unique) and wrong guesses count against the sign-in limiter.
 */

/** Crockford's base32: no I, L, O or U to misread. 16 characters: 80 bits. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 16;

/** What people type: case, spaces and dashes do not matter. */
function normalize(code: string): string {
  return code
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '');
}

const digest = (code: string) => createHash('sha256').update(normalize(code), 'utf8').digest();

function generateCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code.match(/.{4}/g)!.join('-');
}

export interface OperatorCodes {
  /** At start: whether anyone listed still needs confirming, and if so a code for them. */
  prepare(): Promise<void>;
  /** Redeems a code for a signed-in person; refusals are HttpProblems. */
  redeem(user: User, code: string, ip: string): Promise<{ alreadyConfirmed: boolean }>;
}

export function createOperatorCodes(deps: {
  config: Pick<ServerConfig, 'multiUser' | 'operatorEmails' | 'operatorCode'>;
  store: Store;
  log: FastifyBaseLogger;
  detector: Detector;
}): OperatorCodes {
  const { config, store, log, detector } = deps;
  /** The SHA-256 of the code waiting to be redeemed; null when none is. */
  let waiting: Buffer | null = null;

  async function unconfirmed(): Promise<string[]> {
    const left: string[] = [];
    for (const email of config.operatorEmails) {
      const user = await store.system.users.findByEmail(email).catch(() => null);
      if (!user?.operatorConfirmedAt) left.push(email);
    }
    return left;
  }

  /** The environment's code while it is unused, else a new one for the log. */
  async function issue(): Promise<void> {
    waiting = null;
    if (!config.multiUser) return;
    const left = await unconfirmed();
    if (left.length === 0) return;
    const own = config.operatorCode ? digest(config.operatorCode) : null;
    if (own && !(await store.system.users.operatorCodeUsed(own.toString('hex')))) {
      waiting = own;
      log.warn(
        { unconfirmedOperators: left },
        'Operators not confirmed yet: sign in with a listed address and redeem PARLEY_OPERATOR_CODE (POST /v1/auth/operator/confirm, or `parley security confirm-operator`).',
      );
      return;
    }
    const code = generateCode();
    waiting = digest(code);
    // The one place the code appears: whoever reads this log runs the server.
    log.warn(
      { unconfirmedOperators: left, operatorCode: code },
      `Operator confirmation code: ${code}. Sign in with a listed address and redeem it once (POST /v1/auth/operator/confirm, or \`parley security confirm-operator\`); until then no one is an operator.`,
    );
  }

  const refuse = (message: string) => new HttpProblem('auth.operator_code_invalid', message);

  return {
    // A database that does not answer yet must not stop the server: no code, no operator.
    prepare: () =>
      issue().catch((error: unknown) =>
        log.warn({ err: error }, 'no operator code this start: the database did not answer'),
      ),

    async redeem(user, code, ip) {
      if (!config.multiUser || !config.operatorEmails.includes(user.email.toLowerCase()))
        throw new HttpProblem(
          'auth.forbidden',
          'Your address is not in PARLEY_OPERATOR_EMAILS: only a listed person may become an operator.',
        );
      if (user.operatorConfirmedAt) return { alreadyConfirmed: true };
      const given = digest(code);
      if (!waiting || !timingSafeEqual(given, waiting)) {
        detector.operatorCodeRefused(user.id, ip);
        throw refuse('Wrong operator code: use the one in the server log or PARLEY_OPERATOR_CODE.');
      }
      // Single use from here on, in this process whatever happens next.
      waiting = null;
      try {
        await store.system.users.confirmOperator(user.id, given.toString('hex'));
      } catch (error) {
        if (isStoreError(error) && error.code === 'store.conflict') {
          detector.operatorCodeRefused(user.id, ip);
          throw refuse('This operator code was used already: restart the server for a new one.');
        }
        throw error;
      }
      detector.operatorConfirmed(user.id, user.email, ip);
      log.warn({ userId: user.id, email: user.email }, 'instance operator confirmed');
      // Someone else listed may still need a code of their own.
      await issue();
      return { alreadyConfirmed: false };
    },
  };
}
