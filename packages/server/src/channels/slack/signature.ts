import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses to replay older requests; so does Parley (https://api.slack.com/authentication/verifying-requests-from-slack). */
const MAX_AGE_SECONDS = 5 * 60;

/**
 * Whether a request carries Slack's signature: `v0=` and the hex HMAC-SHA256, keyed with the
 * app's signing secret, of `v0:<X-Slack-Request-Timestamp>:<body>`, the timestamp within five
 * minutes of now.
 */
export function verifySlackSignature(
  signingSecret: string,
  headers: Record<string, string | undefined>,
  rawBody: string,
  now = Date.now(),
): boolean {
  const timestamp = headers['x-slack-request-timestamp'];
  const signature = headers['x-slack-signature'];
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > MAX_AGE_SECONDS) return false;
  const expected = Buffer.from(signSlack(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function signSlack(signingSecret: string, timestamp: string, rawBody: string): string {
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`);
  return `v0=${mac.digest('hex')}`;
}
