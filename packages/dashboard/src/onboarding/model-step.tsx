import type { Agent, KeyCheck } from '@parley/client';
import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { describeError, fieldError, type Trouble } from '../api/errors.ts';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { markModelChosen } from './progress.ts';
import { PROVIDERS, type ProviderId, providerOf } from './providers.ts';
import { DEMO_MODEL } from './templates.ts';

type Check = KeyCheck['checks'][number];

/** What a key check means for the person, and whether they may go on. */
function verdict(check: Check | undefined): { tone: 'ok' | 'warn' | 'error'; text: string } {
  switch (check?.result) {
    case undefined:
    case 'not_needed':
      return { tone: 'ok', text: 'No key needed.' };
    case 'ok':
      return { tone: 'ok', text: `The key works: ${check.host ?? 'the provider'} accepted it.` };
    case 'rejected':
      return {
        tone: 'error',
        text: `The provider rejected the key${check.httpStatus ? ` (HTTP ${check.httpStatus})` : ''}. Paste a valid key.`,
      };
    case 'rate_limited':
      return {
        tone: 'warn',
        text: 'The key is valid but rate limited right now: runs may fail until the limit resets.',
      };
    case 'missing':
      return { tone: 'error', text: 'No key is stored for this provider yet: paste one.' };
    case 'unreachable':
      return { tone: 'warn', text: `The provider could not be reached: ${check.detail}` };
    case 'refused':
      return { tone: 'error', text: `This server does not send the key there. ${check.detail}` };
    default:
      return {
        tone: 'warn',
        text: `The provider answered unexpectedly: ${check?.detail ?? 'no detail'}`,
      };
  }
}

/**
 * Step 2: the provider and model; the key goes to the workspace's secrets (write-only: it is
 * never shown again, only its last 4 characters), then the server checks it with a cheap
 * request to the provider.
 */
export function ModelStep({ agent, onDone }: { agent: Agent; onDone: () => void }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const current = (agent.draft?.model ?? {}) as {
    provider?: string;
    model?: string;
    baseURL?: string;
  };
  const [providerId, setProviderId] = useState<ProviderId>(
    providerOf(current.provider)?.id ?? 'scripted',
  );
  const provider = providerOf(providerId)!;
  const [model, setModel] = useState(
    current.provider === providerId && current.model ? current.model : provider.defaultModel,
  );
  const [baseURL, setBaseURL] = useState(current.baseURL ?? '');
  const [key, setKey] = useState('');
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [check, setCheck] = useState<Check | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const secrets = useResource(() => api.secrets.list(workspace.id), [api, workspace.id]);
  const stored = provider.secret
    ? secrets.data?.find((s) => s.name === provider.secret)
    : undefined;

  const pick = (id: ProviderId) => {
    setProviderId(id);
    setModel(providerOf(id)!.defaultModel);
    setCheck(null);
    setTrouble(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTrouble(null);
    setCheck(null);
    try {
      if (key && provider.secret) {
        setBusy('Saving the key…');
        await api.secrets.put(workspace.id, provider.secret, key);
        setKey('');
        void secrets.reload();
      }
      setBusy('Saving the model…');
      const modelRef =
        providerId === 'scripted'
          ? DEMO_MODEL
          : {
              provider: providerId,
              model: model.trim(),
              ...(provider.needsBaseUrl ? { baseURL: baseURL.trim() } : {}),
              ...(provider.secret && (key || stored || provider.keyRequired)
                ? { apiKeySecret: provider.secret }
                : {}),
            };
      await api.agents.saveDraft(workspace.id, agent.name, { ...agent.draft, model: modelRef });
      setBusy('Checking the key with the provider…');
      const result = await api.agents.checkKeys(workspace.id, agent.name);
      const first = result.checks[0];
      setCheck(first ?? null);
      const { tone } = verdict(first);
      if (tone === 'ok') {
        markModelChosen(agent.id);
        onDone();
      }
    } catch (error) {
      setTrouble(describeError(error));
    } finally {
      setBusy(null);
    }
  };

  const continueAnyway = () => {
    markModelChosen(agent.id);
    onDone();
  };
  const shown = check ? verdict(check) : null;
  return (
    <form className="stack" onSubmit={submit} aria-label="Choose the model">
      <fieldset className="providers">
        <legend>Provider</legend>
        {PROVIDERS.map((p) => (
          <label key={p.id} className="template" data-checked={p.id === providerId}>
            <input
              type="radio"
              name="provider"
              value={p.id}
              checked={p.id === providerId}
              onChange={() => pick(p.id)}
            />
            <span className="template-label">{p.label}</span>
            <span className="muted small">{p.hint}</span>
          </label>
        ))}
      </fieldset>
      {providerId !== 'scripted' ? (
        <>
          {provider.needsBaseUrl ? (
            <Field
              label="Base URL"
              hint="The server’s OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 for Ollama."
              error={fieldError(trouble, 'baseURL')}
            >
              {(props) => (
                <input
                  {...props}
                  type="url"
                  required
                  value={baseURL}
                  placeholder="https://…/v1"
                  onChange={(event) => setBaseURL(event.target.value)}
                />
              )}
            </Field>
          ) : null}
          <Field label="Model" error={fieldError(trouble, 'model')}>
            {(props) => (
              <>
                <input
                  {...props}
                  required
                  list="model-suggestions"
                  value={model}
                  autoComplete="off"
                  onChange={(event) => setModel(event.target.value)}
                />
                <datalist id="model-suggestions">
                  {provider.models.map((m) => (
                    <option key={m} value={m} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field
            label={`API key${provider.keyRequired ? '' : ' (if the server needs one)'}`}
            hint={
              stored
                ? `A key is stored as ${provider.secret} (ending in ${stored.last4 ?? '…'}). Leave this empty to keep it.`
                : `Stored encrypted as the workspace secret ${provider.secret}, never shown again.${provider.keyHelp ? ` Get one at ${provider.keyHelp}` : ''}`
            }
          >
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="off"
                spellCheck={false}
                required={provider.keyRequired && !stored}
                value={key}
                onChange={(event) => setKey(event.target.value)}
              />
            )}
          </Field>
        </>
      ) : (
        <p className="muted">
          The demo plays a short script: it reasons, calls the calculator, then answers. Nothing
          leaves this machine. You can switch to a real model later.
        </p>
      )}
      {trouble ? <ErrorBanner trouble={trouble} /> : null}
      {shown && shown.tone !== 'ok' ? (
        <div
          className={`banner banner-${shown.tone === 'error' ? 'error' : 'warn'}`}
          role="alert"
          data-testid="key-check"
        >
          <strong>{shown.tone === 'error' ? 'Key rejected.' : 'Check this.'}</strong> {shown.text}
          {shown.tone === 'warn' ? (
            <button type="button" className="link-button" onClick={continueAnyway}>
              Continue anyway
            </button>
          ) : null}
        </div>
      ) : null}
      <div className="step-actions">
        <button type="submit" className="button primary" disabled={busy !== null}>
          {busy ?? (providerId === 'scripted' ? 'Use the offline demo' : 'Save and check the key')}
        </button>
        <span role="status" className="visually-hidden">
          {busy ?? ''}
        </span>
      </div>
    </form>
  );
}
