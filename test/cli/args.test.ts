/** parseCommand(): flags to serve options, in-process (the spawned command is tested in serve.test.ts). */
import assert from 'node:assert/strict';
import { DEFAULT_DRAIN_TIMEOUT, DEFAULT_HOST, DEFAULT_PORT, parseCommand, SERVE_FLAGS, UsageError } from '../../src/cli/args.js';

const serve = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommand(['serve', ...argv], env);
  assert.equal(command.kind, 'serve');
  return (command as Extract<typeof command, { kind: 'serve' }>).config;
};

describe('parseCommand', () => {
  it('defaults to the demo on 127.0.0.1:8080, leaving the rest to listen()', () => {
    assert.deepEqual(serve([]), {
      dir: null,
      dirSource: 'the directory argument',
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
      htpasswd: null,
      tlsKey: null,
      tlsCert: null,
      logFormat: 'text',
      drainTimeout: DEFAULT_DRAIN_TIMEOUT,
    });
  });

  it('maps every flag to its listen() option', () => {
    const config = serve([
      'public', '--host', '0.0.0.0', '-p', '9000', '--htpasswd', 'pw', '--tls-key', 'k', '--tls-cert', 'c',
      '--autoflush', '50', '--ws-path', '/live', '--index', '/app.html', '--parallel', '--cache',
      '--allow-origin', 'https://a.example', '--allow-origin', 'http://b.example:8080/', '--framing', 'plain',
      '--ping-delay', '1000', '--ping-timeout', '2000', '--shutdown-timeout', '0', '--max-connections', '5',
      '--drain-timeout', '2500', '--log-format', 'json', '--metrics', '--health', '--compression',
    ]);
    assert.deepEqual(config, {
      dir: 'public',
      dirSource: 'the directory argument',
      host: '0.0.0.0',
      port: 9000,
      htpasswd: 'pw',
      tlsKey: 'k',
      tlsCert: 'c',
      autoflushDelay: 50,
      wsPath: '/live',
      indexPath: '/app.html',
      parallelRequests: true,
      noCache: false,
      allowedOrigins: ['https://a.example', 'http://b.example:8080'],
      framing: 'plain',
      pingDelay: 1000,
      pingTimeout: 2000,
      shutdownTimeout: 0,
      maxConnections: 5,
      drainTimeout: 2500,
      logFormat: 'json',
      metrics: true,
      health: true,
      compression: true,
    });
  });

  it("reads 'off' as null for --autoflush and --index", () => {
    const config = serve(['--autoflush', 'off', '--index', 'off']);
    assert.equal(config.autoflushDelay, null);
    assert.equal(config.indexPath, null);
    assert.equal(serve(['--autoflush', 'null']).autoflushDelay, null);
  });

  it('prefers --port to PORT, and PORT to the default', () => {
    assert.equal(serve([], { PORT: '3000' }).port, 3000);
    assert.equal(serve(['--port', '0'], { PORT: '3000' }).port, 0);
    assert.equal(serve([], { PORT: '' }).port, DEFAULT_PORT);
  });

  it('knows help and version in every usual spelling', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['serve', '--help'], ['serve', '--port', '1', '-h']]) {
      assert.deepEqual(parseCommand(argv), { kind: 'help' }, argv.join(' '));
    }
    for (const argv of [['--version'], ['-v'], ['serve', '--version']]) {
      assert.deepEqual(parseCommand(argv), { kind: 'version' }, argv.join(' '));
    }
  });

  it('throws a UsageError (exit code 2) naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--port', '1.5'], /^--port: expected an integer/],
      [['--port', '-1'], /^--port needs a value$/],
      [['--port', ' 80'], /^--port: expected an integer/],
      [['--host', ''], /^--host needs a non-empty value$/],
      [['--index', 'index.html'], /^--index: expected a URL path/],
      [['--allow-origin', 'https://a.example/path'], /^--allow-origin: /],
      [['--max-connections', '0'], /^--max-connections: expected an integer from 1/],
      [['--cache=1'], /^--cache takes no value$/],
      [['-x'], /^unknown flag -x/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => serve(argv), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.equal(err.exitCode, 2);
        assert.match(err.message, message);
        return true;
      }, argv.join(' '));
    }
  });

  it('has help text for every flag it parses', () => {
    for (const flag of SERVE_FLAGS) assert.ok(flag.help.length > 10, flag.name);
  });
});
