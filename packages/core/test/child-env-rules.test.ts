import { describe, expect, it } from 'vitest';
import { refusedEnvName } from '../src/agent/child-env-rules.ts';
import { AgentDefinitionSchema } from '../src/agent/definition.ts';

/** [family, names refused by its rule, the words the refusal must name]. */
const REFUSED: readonly (readonly [string, readonly string[], RegExp])[] = [
  [
    'dynamic loader',
    [
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'LD_AUDIT',
      'DYLD_INSERT_LIBRARIES',
      'MALLOC_TRACE',
      'RESOLV_HOST_CONF',
    ],
    /dynamic loader/,
  ],
  [
    'C library',
    [
      'GCONV_PATH',
      'GLIBC_TUNABLES',
      'HOSTALIASES',
      'LOCPATH',
      'NLSPATH',
      'RES_OPTIONS',
      'TMPDIR',
      'TZDIR',
      'LOCALDOMAIN',
    ],
    /C library/,
  ],
  [
    'shell',
    [
      'BASH_ENV',
      'ENV',
      'BASH_FUNC_ls%%'.replace('%%', ''),
      'SHELLOPTS',
      'BASHOPTS',
      'PS4',
      'PROMPT_COMMAND',
      'IFS',
      'CDPATH',
      'ZDOTDIR',
      'SHELL',
    ],
    /shell/,
  ],
  ['host basics', ['PATH', 'HOME', 'USER', 'LOGNAME', 'TERM', 'LANG', 'TZ'], /which program runs/],
  ['config dirs', ['XDG_CONFIG_HOME', 'TERMINFO', 'LC_ALL'], /configuration and data files/],
  [
    'node',
    [
      'NODE_OPTIONS',
      'NODE_PATH',
      'NODE_EXTRA_CA_CERTS',
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'NPM_CONFIG_REGISTRY',
      'COREPACK_HOME',
      'BUN_OPTIONS',
      'DENO_DIR',
      'ELECTRON_RUN_AS_NODE',
      'UV_INDEX_URL',
    ],
    /Node\.js/,
  ],
  [
    'python',
    ['PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PIP_INDEX_URL', 'PIPX_HOME', 'VIRTUAL_ENV'],
    /Python/,
  ],
  [
    'perl and ruby',
    ['PERL5OPT', 'PERL5LIB', 'PERLLIB', 'RUBYOPT', 'RUBYLIB', 'GEM_HOME', 'BUNDLE_GEMFILE'],
    /Perl and Ruby/,
  ],
  [
    'java',
    [
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'JAVA_HOME',
      'CLASSPATH',
      'MAVEN_OPTS',
    ],
    /Java/,
  ],
  [
    'other runtimes',
    [
      'DOTNET_STARTUP_HOOKS',
      'COMPLUS_DBGJITDEBUGLAUNCHSETTING',
      'CORECLR_PROFILER_PATH',
      'COR_PROFILER',
      'LUA_INIT',
      'PHPRC',
      'TCLLIBPATH',
      'R_PROFILE_USER',
    ],
    /\.NET/,
  ],
  [
    'go and rust',
    ['GOFLAGS', 'GOPROXY', 'GOTOOLCHAIN', 'CGO_CFLAGS', 'CARGO_HOME', 'RUSTC_WRAPPER', 'RUSTFLAGS'],
    /Go and Rust/,
  ],
  [
    'git and ssh',
    [
      'GIT_SSH_COMMAND',
      'GIT_CONFIG_GLOBAL',
      'GIT_ASKPASS',
      'GIT_EXEC_PATH',
      'SSH_AUTH_SOCK',
      'SSH_ASKPASS',
      'EDITOR',
      'PAGER',
      'LESSOPEN',
    ],
    /git, ssh/,
  ],
  [
    'network and trust',
    [
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'NO_PROXY',
      'ALL_PROXY',
      'SSL_CERT_FILE',
      'OPENSSL_CONF',
      'SSLKEYLOGFILE',
      'CURL_CA_BUNDLE',
      'REQUESTS_CA_BUNDLE',
    ],
    /network traffic/,
  ],
  [
    'containers',
    ['DOCKER_HOST', 'DOCKER_CONFIG', 'CONTAINER_HOST', 'KUBECONFIG'],
    /container engine/,
  ],
  ['parley', ['PARLEY_MASTER_KEY', 'PARLEY_DATABASE_URL'], /Parley's own/],
];

const ALLOWED = [
  'GITHUB_TOKEN',
  'GITHUB_PERSONAL_ACCESS_TOKEN',
  'OPENAI_API_KEY',
  'SLACK_BOT_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'GOOGLE_API_KEY',
  'BRAVE_API_KEY',
  'CORS_ORIGIN',
  'ENVIRONMENT',
  'API_KEY',
  'NOTION_TOKEN',
  'DATABASE_PASSWORD',
  // Near misses of refused prefixes: names MCP servers document.
  'PERPLEXITY_API_KEY',
  'GEMINI_API_KEY',
  'GITLAB_PERSONAL_ACCESS_TOKEN',
  'DOCKERHUB_TOKEN',
  'BUNNY_API_KEY',
  'CORS_ALLOWED_ORIGIN',
  'ENVIRONMENT_NAME',
  'DATABASE_URL',
];

describe('the variables a secret may be put in (secretEnv)', () => {
  for (const [family, names, says] of REFUSED) {
    it.each(names)(`${family}: %s is refused, naming the variable and what it controls`, (name) => {
      const why = refusedEnvName(name);
      expect(why).toContain(name);
      expect(why).toMatch(says);
      // Case does not matter: some programs read lower-case names too.
      expect(refusedEnvName(name.toLowerCase())).toMatch(says);
    });
  }

  it.each(ALLOWED)('%s is allowed', (name) => {
    expect(refusedEnvName(name)).toBeUndefined();
  });

  it('refuses what is not a variable name', () => {
    expect(refusedEnvName('A=B')).toMatch(/not a variable name/);
    expect(refusedEnvName('1X')).toMatch(/not a variable name/);
  });

  it('an agent definition naming one is invalid, with the field and the reason', () => {
    const result = AgentDefinitionSchema.safeParse({
      name: 'spawner',
      instructions: 'x',
      model: { provider: 'scripted', model: 'm' },
      mcp: [
        {
          name: 'tools',
          transport: {
            stdio: { command: 'npx', args: ['x'], secretEnv: { NODE_OPTIONS: 'S', TOKEN: 'T' } },
          },
        },
      ],
    });
    expect(result.success).toBe(false);
    // With positions and did-you-mean, @parley/agent-file reports the same issue (its tests).
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['mcp', 0, 'transport', 'stdio', 'secretEnv', 'NODE_OPTIONS'],
        message: expect.stringMatching(/NODE_OPTIONS may not be set from a secret.*Node\.js/),
      }),
    ]);
  });
});
