import { type FormEvent, type KeyboardEvent, useState } from 'react';
import { describeError, fieldError, type Trouble } from '../api/errors.ts';
import { useSession } from '../api/session.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';

type Mode = 'sign-in' | 'sign-up' | 'token';

const TABS: { mode: Mode; label: string }[] = [
  { mode: 'sign-in', label: 'Sign in' },
  { mode: 'sign-up', label: 'Create an account' },
  { mode: 'token', label: 'Use an API token' },
];

/**
 * Sign in, sign up (multi-user servers) or paste an API token (a server that requires one).
 * A single-user server on this machine never shows this page: the local session opens it.
 */
export function SignIn() {
  const session = useSession();
  const [mode, setMode] = useState<Mode>('sign-in');
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [busy, setBusy] = useState(false);

  const choose = (next: Mode) => {
    setMode(next);
    setTrouble(null);
  };
  // The tab pattern: arrow keys move between tabs (Tab moves on to the form).
  const moveBetweenTabs = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const at = TABS.findIndex((t) => t.mode === mode);
    const next = TABS[(at + step + TABS.length) % TABS.length]!.mode;
    choose(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '').trim();
    setBusy(true);
    setTrouble(null);
    try {
      if (mode === 'sign-in') await session.signIn(value('email'), String(form.get('password')));
      else if (mode === 'sign-up')
        await session.signUp({
          email: value('email'),
          password: String(form.get('password')),
          ...(value('displayName') ? { displayName: value('displayName') } : {}),
        });
      else await session.signInWithToken(value('token'));
    } catch (error) {
      setTrouble(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="center-page auth-page">
      <h1 className="brand-title">Parley</h1>
      <p className="lead">Build, run and deploy AI agents.</p>
      <div className="tabs" role="tablist" aria-label="How to sign in" onKeyDown={moveBetweenTabs}>
        {TABS.map((tab) => (
          <button
            key={tab.mode}
            id={`tab-${tab.mode}`}
            type="button"
            role="tab"
            aria-selected={mode === tab.mode}
            aria-controls="sign-in-panel"
            tabIndex={mode === tab.mode ? 0 : -1}
            className="tab"
            onClick={() => choose(tab.mode)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <form
        id="sign-in-panel"
        role="tabpanel"
        aria-labelledby={`tab-${mode}`}
        className="card stack"
        onSubmit={submit}
      >
        {trouble ? <ErrorBanner trouble={trouble} /> : null}
        {mode === 'token' ? (
          <Field
            label="API token"
            hint="Starts with prl_. Kept for this browser tab only."
            error={fieldError(trouble, 'token')}
          >
            {(props) => (
              <input {...props} name="token" type="password" autoComplete="off" required />
            )}
          </Field>
        ) : (
          <>
            {mode === 'sign-up' ? (
              <Field label="Your name" hint="Optional.">
                {(props) => <input {...props} name="displayName" autoComplete="name" />}
              </Field>
            ) : null}
            <Field label="Email" error={fieldError(trouble, 'email')}>
              {(props) => (
                <input {...props} name="email" type="email" autoComplete="email" required />
              )}
            </Field>
            <Field
              label="Password"
              hint={mode === 'sign-up' ? 'At least 12 characters.' : undefined}
              error={fieldError(trouble, 'password')}
            >
              {(props) => (
                <input
                  {...props}
                  name="password"
                  type="password"
                  autoComplete={mode === 'sign-up' ? 'new-password' : 'current-password'}
                  required
                />
              )}
            </Field>
          </>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'One moment…' : TABS.find((t) => t.mode === mode)!.label}
        </button>
      </form>
    </main>
  );
}
