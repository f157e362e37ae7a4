/*
 * Which environment variable names an agent may set from workspace secrets for a program the
 * server starts (a stdio MCP server's `secretEnv`). A secret goes into the environment as a
 * value the program reads, never as a control of how the program, its interpreter, its
 * loader or its shell starts: whoever may deploy an agent would otherwise run code on the
 * host as the server's user (NODE_OPTIONS=--require, LD_PRELOAD, BASH_ENV, PYTHONSTARTUP,
 * GIT_SSH_COMMAND, a package manager's registry for `npx`/`uvx`). The list goes by family:
 * each rule says what its variables control. Checked when an agent is validated and again
 * when the program is started.
 */

interface EnvRule {
  /** Matches the upper-cased name. */
  pattern: RegExp;
  /** What variables of this family control (the refusal quotes it). */
  controls: string;
}

const words = (names: string) => new RegExp(`^(${names.trim().split(/\s+/).join('|')})$`);

const RULES: readonly EnvRule[] = [
  {
    // glibc's own list of variables it drops for setuid programs (unsecvars.h), and the
    // dynamic loaders of Linux and macOS.
    pattern: /^(LD_|DYLD_|_RLD|MALLOC_|RESOLV_)/,
    controls: 'the dynamic loader and the C library (preloaded libraries, allocator, resolver)',
  },
  {
    pattern: words(
      'GCONV_PATH GETCONF_DIR GLIBC_TUNABLES HOSTALIASES LOCALDOMAIN LOCPATH NIS_PATH NLSPATH RES_OPTIONS TMPDIR TZDIR',
    ),
    controls: 'the C library (files and modules it loads)',
  },
  {
    pattern:
      /^(BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|PS\d|PROMPT_COMMAND|IFS|CDPATH|GLOBIGNORE|ZDOTDIR|INPUTRC|HISTFILE|SHELL)$/,
    controls: 'how a shell starts and parses commands',
  },
  {
    pattern: words('PATH HOME USER LOGNAME TERM LANG LANGUAGE TZ PWD COMSPEC PATHEXT'),
    controls: 'which program runs and where it reads its configuration (passed from the host)',
  },
  {
    pattern: /^(XDG_|TERMINFO|LC_)/,
    controls: 'where programs read their configuration and data files',
  },
  {
    pattern: /^(NODE_|NPM_|COREPACK_|YARN_|PNPM_|BUN_|DENO_|ELECTRON_|UV_)/,
    controls: 'the Node.js, Bun and Deno runtimes and their package managers (npx, uvx)',
  },
  {
    pattern: /^(PYTHON|PIP_|PIPX_|VIRTUAL_ENV$|CONDA_)/,
    controls: 'the Python interpreter and its package managers',
  },
  { pattern: /^(PERL|RUBY|GEM_|BUNDLE_)/, controls: 'the Perl and Ruby interpreters' },
  {
    pattern: words(
      'JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS JAVA_OPTS JAVA_HOME CLASSPATH MAVEN_OPTS GRADLE_OPTS',
    ),
    controls: 'the Java virtual machine (agents and options it loads)',
  },
  {
    pattern: /^(DOTNET_|COMPLUS_|CORECLR_|COR_|LUA_|PHPRC$|PHP_INI_SCAN_DIR$|TCLLIBPATH$|R_)/,
    controls: 'the .NET, Lua, PHP, Tcl and R runtimes',
  },
  {
    pattern:
      /^(GOFLAGS|GOPROXY|GOPATH|GOROOT|GOENV|GOTOOLCHAIN|GOSUMDB|GONOSUMDB|GOPRIVATE|GOINSECURE|GOEXPERIMENT|GODEBUG|GOCACHE|GOMODCACHE|GO111MODULE)$|^(CGO_|CARGO_|RUSTC|RUSTUP_|RUSTFLAGS$|RUSTDOCFLAGS$)/,
    controls: 'the Go and Rust toolchains (go run, cargo run)',
  },
  {
    pattern:
      /^(GIT_|SSH_)|^(EDITOR|VISUAL|PAGER|MANPAGER|BROWSER|LESS|LESSOPEN|LESSCLOSE|LESSKEY|LESSKEYIN)$/,
    controls: 'git, ssh and the commands programs start (editors, pagers, askpass)',
  },
  {
    pattern:
      /^(HTTPS?|FTP|ALL|NO|SOCKS5?|GRPC)_PROXY$|^(SSL_CERT_|OPENSSL_|GNUTLS_)|^(SSLKEYLOGFILE|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE)$/,
    controls: 'where network traffic goes and which certificates are trusted',
  },
  {
    pattern: /^(DOCKER_|CONTAINERS?_|PODMAN_|KUBECONFIG$)/,
    controls: 'which container engine or cluster a command talks to',
  },
  { pattern: /^PARLEY_/, controls: "Parley's own settings" },
];

/** Why `name` may not be set from a secret, or undefined when it may. */
export function refusedEnvName(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return `${name} is not a variable name (letters, digits and "_", not starting with a digit)`;
  const upper = name.toUpperCase();
  const rule = RULES.find((r) => r.pattern.test(upper));
  if (!rule) return undefined;
  return `${name} may not be set from a secret: variables like it control ${rule.controls}; name the variable the program reads its token from (e.g. GITHUB_TOKEN)`;
}
