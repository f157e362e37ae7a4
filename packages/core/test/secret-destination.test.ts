import { describe, expect, it } from 'vitest';
import {
  listedHost,
  type SecretDestinationPolicy,
  type SecretUse,
  secretDestinationRefusal,
} from '../src/net/secret-destination.ts';

const single: SecretDestinationPolicy = { multiUser: false, modelHosts: [], mcpHosts: [] };
const multi: SecretDestinationPolicy = {
  multiUser: true,
  modelHosts: ['gateway.internal', 'http://ollama:11434', 'vllm.example:8443'],
  mcpHosts: ['mcp.example.com', 'http://tools.internal:8080'],
};
const openai: SecretUse = { kind: 'model', provider: 'openai' };
const anthropic: SecretUse = { kind: 'model', provider: 'anthropic' };
const compatible: SecretUse = { kind: 'model', provider: 'openai-compatible' };
const mcp: SecretUse = { kind: 'mcp' };

/** [policy name, use, url, refusal pattern or null when allowed]. */
const TABLE: readonly (readonly [string, SecretUse, string, RegExp | null])[] = [
  // Single-user: any host over https; plain http only to this machine.
  ['single', openai, 'https://api.openai.com/v1', null],
  ['single', openai, 'https://my-gateway.example/v1', null],
  ['single', compatible, 'http://127.0.0.1:11434/v1', null],
  ['single', compatible, 'http://localhost:11434/v1', null],
  ['single', compatible, 'http://[::1]:11434/v1', null],
  ['single', openai, 'http://api.openai.com/v1', /plain http.*unencrypted/],
  ['single', compatible, 'http://192.168.1.5:11434/v1', /plain http/],
  ['single', compatible, 'http://127.0.0.1.nip.io/v1', /plain http/],
  ['single', compatible, 'http://[::127.0.0.1]/v1', /plain http/],
  ['single', mcp, 'http://127.0.0.1:9000/mcp', null],
  ['single', mcp, 'http://mcp.example.com/mcp', /plain http/],
  ['single', mcp, 'https://mcp.example.com/mcp', null],
  ['single', openai, 'ftp://api.openai.com/v1', /ftp: URLs cannot carry/],
  // Multi-user: a key to its own provider or the operator's hosts; https unless listed http://.
  ['multi', openai, 'https://api.openai.com/v1', null],
  ['multi', anthropic, 'https://api.anthropic.com/v1', null],
  [
    'multi',
    anthropic,
    'https://api.openai.com/v1',
    /anthropic key may not be sent to api\.openai\.com.*api\.anthropic\.com or hosts an operator lists in PARLEY_MODEL_HOSTS/,
  ],
  ['multi', openai, 'https://attacker.example/v1', /may not be sent to attacker\.example/],
  ['multi', openai, 'https://gateway.internal/v1', null],
  ['multi', openai, 'https://gateway.internal:8443/v1', null],
  ['multi', openai, 'http://gateway.internal/v1', /plain http/],
  ['multi', compatible, 'http://ollama:11434/v1', null],
  ['multi', compatible, 'http://ollama:11435/v1', /plain http/],
  ['multi', compatible, 'https://vllm.example:8443/v1', null],
  ['multi', compatible, 'https://vllm.example/v1', /may not be sent to vllm\.example/],
  ['multi', compatible, 'http://127.0.0.1:11434/v1', /plain http/],
  ['multi', openai, 'https://mcp.example.com/v1', /may not be sent/],
  ['multi', mcp, 'https://mcp.example.com/mcp', null],
  [
    'multi',
    mcp,
    'https://public-but-unlisted.example/mcp',
    /bearer token may not be sent.*PARLEY_MCP_HOSTS/,
  ],
  ['multi', mcp, 'http://tools.internal:8080/mcp', null],
  ['multi', mcp, 'http://127.0.0.1:9000/mcp', /plain http/],
  ['multi', mcp, 'https://gateway.internal/mcp', /bearer token may not be sent/],
];

describe('where a secret may go', () => {
  it.each(TABLE)('%s: %o to %s', (policy, use, url, refusal) => {
    const why = secretDestinationRefusal(url, use, policy === 'multi' ? multi : single);
    if (refusal === null) expect(why).toBeUndefined();
    else expect(why).toMatch(refusal);
  });

  it('matches operator entries by host, host:port (default ports too) and http://host:port', () => {
    const list = ['a.example', 'b.example:8443', 'http://c.example:80', 'D.Example'];
    expect(listedHost(new URL('https://a.example:1234/'), list)).toEqual({ plainHttp: false });
    expect(listedHost(new URL('https://b.example:8443/'), list)).toEqual({ plainHttp: false });
    expect(listedHost(new URL('https://b.example/'), list)).toBeUndefined();
    expect(listedHost(new URL('http://c.example/'), list)).toEqual({ plainHttp: true });
    expect(listedHost(new URL('https://d.example/'), list)).toEqual({ plainHttp: false });
    expect(listedHost(new URL('https://a.example.evil/'), list)).toBeUndefined();
  });
});
