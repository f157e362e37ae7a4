import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { describeError, fieldError, type Trouble } from '../api/errors.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { navigate } from '../router.tsx';
import { DEMO_MODEL, slugify, TEMPLATES } from './templates.ts';

/** The basics plugin gives the first agent its calculator and clock. */
const FIRST_PLUGINS = [{ name: '@parley/plugin-basics', version: '^0.1.0' }];

/**
 * Step 1: a name, a description and instructions, from a template or from scratch. The agent
 * is created at once (runnable on the offline demo model until step 2 picks another).
 */
export function DescribeStep() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const [templateId, setTemplateId] = useState(TEMPLATES[0]!.id);
  const template = TEMPLATES.find((t) => t.id === templateId)!;
  const [name, setName] = useState(template.name);
  const [description, setDescription] = useState(template.description);
  const [instructions, setInstructions] = useState(template.instructions);
  const [trouble, setTrouble] = useState<Trouble | null>(null);
  const [busy, setBusy] = useState(false);

  const choose = (id: string) => {
    const next = TEMPLATES.find((t) => t.id === id)!;
    setTemplateId(id);
    setName(next.name);
    setDescription(next.description);
    setInstructions(next.instructions);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setTrouble(null);
    const agentName = slugify(name);
    try {
      await api.agents.create(workspace.id, {
        definition: {
          name: agentName,
          ...(description ? { description } : {}),
          instructions,
          model: DEMO_MODEL,
          plugins: FIRST_PLUGINS,
        },
        ...(description ? { description } : {}),
      });
      navigate(`/setup/${encodeURIComponent(agentName)}?step=model`);
    } catch (error) {
      setTrouble(describeError(error));
      setBusy(false);
    }
  };

  if (!can('agents:write'))
    return (
      <p className="banner banner-warn">
        Your role may not create agents. Ask an admin of {workspace.name} to make you a developer.
      </p>
    );
  return (
    <form className="stack" onSubmit={submit} aria-label="Describe your agent">
      <fieldset className="templates">
        <legend>Start from a template</legend>
        {TEMPLATES.map((t) => (
          <label key={t.id} className="template" data-checked={t.id === templateId}>
            <input
              type="radio"
              name="template"
              value={t.id}
              checked={t.id === templateId}
              onChange={() => choose(t.id)}
            />
            <span className="template-label">{t.label}</span>
            <span className="muted small">{t.description || 'Write your own instructions.'}</span>
          </label>
        ))}
      </fieldset>
      {trouble ? <ErrorBanner trouble={trouble} /> : null}
      <Field
        label="Name"
        hint={
          name && slugify(name) !== name
            ? `It will be called “${slugify(name)}”.`
            : 'Lowercase letters, digits and dashes; used in URLs and the API.'
        }
        error={
          fieldError(trouble, 'name') ??
          (trouble?.kind === 'invalid' && /exist|taken|conflict/i.test(trouble.detail)
            ? trouble.detail
            : undefined)
        }
      >
        {(props) => (
          <input
            {...props}
            value={name}
            required
            maxLength={64}
            autoComplete="off"
            onChange={(event) => setName(event.target.value)}
          />
        )}
      </Field>
      <Field label="What it does" hint="One sentence, shown in lists.">
        {(props) => (
          <input
            {...props}
            value={description}
            maxLength={500}
            onChange={(event) => setDescription(event.target.value)}
          />
        )}
      </Field>
      <Field
        label="Instructions"
        hint="The system prompt: who the agent is and how it answers."
        error={fieldError(trouble, 'instructions')}
      >
        {(props) => (
          <textarea
            {...props}
            value={instructions}
            required
            rows={5}
            onChange={(event) => setInstructions(event.target.value)}
          />
        )}
      </Field>
      <div className="step-actions">
        <button type="submit" className="button primary" disabled={busy || !slugify(name)}>
          {busy ? 'Creating…' : 'Create agent'}
        </button>
      </div>
    </form>
  );
}
