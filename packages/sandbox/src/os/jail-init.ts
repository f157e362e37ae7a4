/*
 * The first process inside a jailed program's sandbox when the program may reach the network
 * (see ../jailed-program.ts). The jail's network namespace has only loopback: this listens on
 * 127.0.0.1:<port> there and forwards each connection to the parent's egress proxy through the
 * Unix socket bound into the jail, so a program honouring HTTPS_PROXY/HTTP_PROXY reaches its
 * declared hosts and nothing else. Then it runs the program with this process's stdio and
 * ends with it.
 *
 * Usage: node jail-init.ts <socket path> <port> <command> [args…]
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const [socketPath, port, command, ...args] = process.argv.slice(2);
if (!socketPath || !port || !command) {
  process.stderr.write('usage: jail-init <socket path> <port> <command> [args…]\n');
  process.exit(2);
}

const forwarder = createServer((client) => {
  const upstream = connect(socketPath);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
await new Promise<void>((resolve) => forwarder.listen(Number(port), '127.0.0.1', resolve));

const program = spawn(command, args, { stdio: 'inherit' });
program.on('error', (error) => {
  process.stderr.write(`cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
program.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
  process.on(signal, () => program.kill(signal));
