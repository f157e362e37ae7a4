import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, isLoopback, loadConfig } from '../src/config.ts';

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 4000, ./.parley resolved, single-user', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      dataDir: resolve('.parley'),
      multiUser: false,
      requireToken: false,
      signup: true,
      operatorEmails: [],
      trustedOrigins: [],
      behindTlsProxy: false,
      eventLog: true,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.masterKey).toBeUndefined();
    expect(config.metricsToken).toBeUndefined();
  });

  it('reads only PARLEY_ variables, treats empty ones as unset and resolves paths', () => {
    const config = loadConfig({
      HOME: '/home/someone',
      PATH: '/usr/bin',
      PARLEY_PORT: '',
      PARLEY_DATA_DIR: 'some/dir',
      PARLEY_SERVER: 'http://127.0.0.1:4000',
      PARLEY_TOKEN: 'prl_for_the_cli',
      PARLEY_WORKSPACE: 'ws',
    });
    expect(config.port).toBe(4000);
    expect(config.dataDir).toBe(resolve('some/dir'));
  });

  it('parses every kind of value', () => {
    const config = loadConfig({
      PARLEY_HOST: '0.0.0.0',
      PARLEY_PORT: '0',
      PARLEY_MULTI_USER: 'yes',
      PARLEY_SIGNUP: 'off',
      PARLEY_OPERATOR_EMAILS: ' Ada@Example.com , ,bob@example.com',
      PARLEY_TRUSTED_ORIGINS: 'https://app.example/, http://localhost:5173',
      PARLEY_BEHIND_TLS_PROXY: 'true',
      PARLEY_EVENT_LOG: '0',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_METRICS_TOKEN: 'a-metrics-token-of-32-characters',
      PARLEY_SHUTDOWN_GRACE_SECONDS: '2.5',
      PARLEY_DATABASE_URL: 'postgres://parley@db/parley',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      multiUser: true,
      signup: false,
      operatorEmails: ['ada@example.com', 'bob@example.com'],
      trustedOrigins: ['https://app.example', 'http://localhost:5173'],
      behindTlsProxy: true,
      eventLog: false,
      logLevel: 'warn',
      metricsToken: 'a-metrics-token-of-32-characters',
      shutdownGraceMs: 2_500,
      databaseUrl: 'postgres://parley@db/parley',
    });
  });

  it.each([
    ['PARLEY_PORT', 'eighty'],
    ['PARLEY_PORT', '70000'],
    ['PARLEY_PORT', '-1'],
    ['PARLEY_PORT', '80.5'],
    ['PARLEY_MULTI_USER', 'maybe'],
    ['PARLEY_REQUIRE_TOKEN', '2'],
    ['PARLEY_EVENT_LOG', 'enabled'],
    ['PARLEY_HOST', 'not a host!'],
    ['PARLEY_DATABASE_URL', 'mysql://db/parley'],
    ['PARLEY_MIGRATION_DATABASE_URL', 'db.example:5432'],
    ['PARLEY_TRUSTED_ORIGINS', 'https://ok.example,not-a-url'],
    ['PARLEY_LOG_LEVEL', 'verbose'],
    ['PARLEY_SHUTDOWN_GRACE_SECONDS', 'soon'],
    ['PARLEY_SHUTDOWN_GRACE_SECONDS', '601'],
  ])('refuses %s=%s with a ConfigError naming it', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable} `)).toBe(true);
    expect(error.message).not.toMatch(/\n/);
  });

  it('refuses an unknown PARLEY_ variable (a typo) and lists the known ones', () => {
    const error = configError({ PARLEY_MULTIUSER: '1' });
    expect(error.variable).toBe('PARLEY_MULTIUSER');
    expect(error.message).toMatch(/^PARLEY_MULTIUSER is not a Parley setting/);
    for (const known of CONFIG_VARIABLES) expect(error.message).toContain(known);
  });

  it('never echoes a token, key or credential in the message', () => {
    const metrics = configError({ PARLEY_METRICS_TOKEN: 'short-secret' });
    expect(metrics.variable).toBe('PARLEY_METRICS_TOKEN');
    expect(metrics.message).toMatch(/at least 16 characters/);
    expect(metrics.message).not.toContain('short-secret');

    const unknown = configError({ PARLEY_API_KEY: 'sk-live-very-secret-value' });
    expect(unknown.variable).toBe('PARLEY_API_KEY');
    expect(unknown.message).not.toContain('sk-live-very-secret-value');

    // A database URL carries a password: the message may show the URL but not that.
    for (const bad of ['mysql://admin:hunter2-password@db/parley', 'db://u:hunter2/p@ss@db/x']) {
      const url = configError({ PARLEY_DATABASE_URL: bad });
      expect(url.variable).toBe('PARLEY_DATABASE_URL');
      expect(url.message).not.toContain('hunter2');
      expect(url.message).toContain('db/');
    }

    // Another variable failing does not drag the secrets along.
    const other = configError({
      PARLEY_MASTER_KEY: 'master-key-material',
      PARLEY_METRICS_TOKEN: 'metrics-token-long-enough-1234',
      PARLEY_PORT: 'x',
    });
    expect(other.variable).toBe('PARLEY_PORT');
    expect(other.message).not.toContain('master-key-material');
    expect(other.message).not.toContain('metrics-token-long-enough-1234');
  });

  it('shows the offending value of a harmless variable, cut short', () => {
    expect(configError({ PARLEY_PORT: 'eighty' }).message).toContain('"eighty"');
    const long = configError({ PARLEY_LOG_LEVEL: 'x'.repeat(500) });
    expect(long.message.length).toBeLessThan(400);
  });

  describe('beyond loopback', () => {
    it.each(['0.0.0.0', '192.168.1.10', '::', 'parley.example', '127.evil.example'])(
      'refuses PARLEY_HOST=%s in single-user mode',
      (host) => {
        const error = configError({ PARLEY_HOST: host });
        expect(error.variable).toBe('PARLEY_HOST');
        expect(error.message).toMatch(/PARLEY_MULTI_USER=1/);
        expect(error.message).toMatch(/PARLEY_REQUIRE_TOKEN=1/);
      },
    );

    it.each(['127.0.0.1', '127.1.2.3', '::1', 'localhost'])('accepts PARLEY_HOST=%s', (host) => {
      expect(loadConfig({ PARLEY_HOST: host }).host).toBe(host);
    });

    it('accepts a public address with multi-user mode or a required token', () => {
      expect(loadConfig({ PARLEY_HOST: '0.0.0.0', PARLEY_MULTI_USER: '1' }).host).toBe('0.0.0.0');
      expect(loadConfig({ PARLEY_HOST: '0.0.0.0', PARLEY_REQUIRE_TOKEN: '1' }).requireToken).toBe(
        true,
      );
      // Turning them off explicitly is still single-user without a token.
      expect(
        configError({ PARLEY_HOST: '0.0.0.0', PARLEY_MULTI_USER: '0', PARLEY_REQUIRE_TOKEN: 'no' })
          .variable,
      ).toBe('PARLEY_HOST');
    });
  });
});

describe('isLoopback', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.2',
    '127.255.0.1',
    '::1',
    '[::1]',
    'localhost',
    'LOCALHOST',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });

  it.each([
    '',
    '0.0.0.0',
    '10.0.0.1',
    '128.0.0.1',
    '::',
    '::ffff:10.0.0.1',
    'localhost.evil.example',
    // Host names that merely start like a loopback address (DNS rebinding).
    '127.evil.example',
    '127.0.0.1.evil.example',
  ])('%s is not loopback', (address) => {
    expect(isLoopback(address)).toBe(false);
  });
});
