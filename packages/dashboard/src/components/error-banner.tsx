import { describeError, type Trouble } from '../api/errors.ts';

/** A problem, said plainly, with a retry when there is something to retry. */
export function ErrorBanner({
  error,
  trouble,
  onRetry,
}: {
  error?: unknown;
  trouble?: Trouble;
  onRetry?: () => void;
}) {
  const t = trouble ?? (error === undefined ? undefined : describeError(error));
  if (!t) return null;
  return (
    <div className={`banner banner-${t.kind === 'rate_limited' ? 'warn' : 'error'}`} role="alert">
      <strong>{t.title}.</strong> <span>{t.detail}</span>
      {t.kind === 'auth' ? (
        // The session ended (signed out elsewhere, expired): starting over shows the sign-in.
        <button type="button" className="link-button" onClick={() => window.location.reload()}>
          Sign in again
        </button>
      ) : onRetry ? (
        <button type="button" className="link-button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
