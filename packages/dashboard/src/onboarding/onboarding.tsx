import { useEffect } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ChatPanel } from '../chat/chat-panel.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Loading, PageHeading } from '../components/page.tsx';
import { Link, navigate, usePath } from '../router.tsx';
import { DeployStep } from './deploy-step.tsx';
import { DescribeStep } from './describe-step.tsx';
import { ModelStep } from './model-step.tsx';
import { STEPS, type StepId, stepOf } from './progress.ts';

/**
 * The first five minutes: describe an agent, pick its model (and key), talk to it, deploy it.
 * `/setup` starts; `/setup/<agent>` resumes at the step the server's state says
 * (`?step=` opens an earlier one again).
 */
export function Onboarding({ agentName }: { agentName?: string | undefined }) {
  if (!agentName)
    return (
      <Frame step="describe" reached="describe">
        <DescribeStep />
      </Frame>
    );
  return <AgentOnboarding agentName={agentName} />;
}

function AgentOnboarding({ agentName }: { agentName: string }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const { query } = usePath();
  const state = useResource(async () => {
    const { agent } = await api.agents.get(workspace.id, agentName);
    const runs = await api.runs.list(workspace.id, { agentId: agent.id, limit: 1 });
    return { agent, hasRun: runs.length > 0 };
  }, [api, workspace.id, agentName]);
  const asked = query.get('step') as StepId | null;
  const resumeAt = state.data ? stepOf(state.data.agent, state.data.hasRun) : null;
  // Pin the step in the URL, so a step does not change under the person as they finish it.
  useEffect(() => {
    if (!asked && resumeAt)
      navigate(`/setup/${encodeURIComponent(agentName)}?step=${resumeAt}`, { replace: true });
  }, [asked, resumeAt, agentName]);
  if (state.error) return <ErrorBanner error={state.error} onRetry={() => void state.reload()} />;
  if (!state.data) return <Loading />;
  const { agent, hasRun } = state.data;
  const reached = stepOf(agent, hasRun);
  const order = STEPS.map((s) => s.id);
  const step =
    asked && order.includes(asked) && order.indexOf(asked) <= order.indexOf(reached)
      ? asked
      : reached;
  const base = `/setup/${encodeURIComponent(agent.name)}`;
  const go = (next: StepId) => {
    void state.reload();
    navigate(`${base}?step=${next}`);
  };
  return (
    <Frame step={step} reached={reached} base={base}>
      {step === 'describe' ? (
        <p>
          <strong>{agent.name}</strong> is created. {agent.description}
        </p>
      ) : null}
      {step === 'model' ? <ModelStep agent={agent} onDone={() => go('chat')} /> : null}
      {step === 'chat' ? (
        <div className="stack">
          <p className="lead">
            Talk to <strong>{agent.name}</strong>. Its answer streams in as it is written; tool
            calls show as cards.
          </p>
          <ChatPanel
            agent={agent.name}
            version="draft"
            suggestions={['What is 6 * 7?', 'What time is it?', 'Who are you?']}
            onTurnSettled={() => void state.reload()}
          />
          <div className="step-actions">
            <button
              type="button"
              className="button primary"
              disabled={!hasRun}
              onClick={() => go('deploy')}
            >
              Continue to deploy
            </button>
            {!hasRun ? <span className="muted">Send a message first.</span> : null}
          </div>
        </div>
      ) : null}
      {step === 'deploy' ? (
        <DeployStep agent={agent} onDeployed={() => void state.reload()} />
      ) : null}
    </Frame>
  );
}

function Frame({
  step,
  reached,
  base,
  children,
}: {
  step: StepId;
  reached: StepId;
  base?: string;
  children: React.ReactNode;
}) {
  const index = STEPS.findIndex((s) => s.id === step);
  const reachedIndex = STEPS.findIndex((s) => s.id === reached);
  return (
    <div className="onboarding">
      <PageHeading title={`Set up · ${STEPS[index]!.label}`}>Your first agent</PageHeading>
      <ol className="stepper" aria-label="Onboarding steps">
        {STEPS.map((s, i) => {
          const label = (
            <>
              <span className="step-number" aria-hidden="true">
                {i < reachedIndex ? '✓' : i + 1}
              </span>
              <span>{s.label}</span>
            </>
          );
          const state = i === index ? 'current' : i < reachedIndex ? 'done' : 'todo';
          return (
            <li key={s.id} data-state={state} aria-current={i === index ? 'step' : undefined}>
              {base && i <= reachedIndex && i !== index && s.id !== 'describe' ? (
                <Link to={`${base}?step=${s.id}`}>{label}</Link>
              ) : (
                <span>{label}</span>
              )}
            </li>
          );
        })}
      </ol>
      <h2 className="step-title">
        Step {index + 1} of {STEPS.length}: {STEPS[index]!.label}
      </h2>
      {children}
    </div>
  );
}
