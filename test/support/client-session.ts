/**
 * The real kubectl and helm binaries against a fresh test API server (through its HTTPS front:
 * client-go sends bearer tokens over TLS only) or the real cluster (`startToolRunner` with its
 * kubeconfig), each with its own HOME and caches so no discovery or OpenAPI cache leaks between
 * servers. `close()` kills what is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from './apiserver/index.js';
import { startTlsFront, type TlsFront } from './apiserver/tls.js';
import { repoRoot } from './cli.js';
import { helmPath, kubectlPath } from './tools.js';

export interface Run { code: number | null; stdout: string; stderr: string }

/** kubectl and helm with their own HOME and caches, against one kubeconfig. */
export interface ToolRunner {
  home: string;
  kubectl(args: string[], input?: string): Promise<Run>;
  /** kubectl that must exit 0; resolves to its stdout. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  helm(args: string[]): Promise<Run>;
  helmOk(args: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface ClientSession extends ToolRunner {
  server: TestApiServer;
  front: TlsFront;
}

export function startToolRunner(kubeconfigPath: string): ToolRunner {
  const home = mkdtempSync(join(tmpdir(), 'client-session-'));
  const running = new Set<ChildProcess>();
  const env = {
    PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfigPath,
    HELM_CACHE_HOME: join(home, 'helm-cache'), HELM_CONFIG_HOME: join(home, 'helm-config'), HELM_DATA_HOME: join(home, 'helm-data'),
  };
  const run = (binary: string, args: string[], input = ''): Promise<Run> => new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (data) => { stdout += String(data); });
    child.stderr?.on('data', (data) => { stderr += String(data); });
    child.stdin?.end(input);
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  const ok = async (name: string, pending: Promise<Run>, args: string[]): Promise<string> => {
    const result = await pending;
    if (result.code !== 0) throw new Error(`${name} ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  const kubectl = (args: string[], input?: string) => run(kubectlPath(), ['--cache-dir', join(home, 'cache'), ...args], input);
  const helm = (args: string[]) => run(helmPath(), args);
  return {
    home,
    kubectl,
    kubectlOk: (args, input) => ok('kubectl', kubectl(args, input), args),
    helm,
    helmOk: (args) => ok('helm', helm(args), args),
    close: async () => {
      for (const child of running) child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function startClientSession(options: TestApiServerOptions = { strictNamespaces: true }): Promise<ClientSession> {
  const server = await startTestApiServer(options);
  const front = await startTlsFront(server);
  const tools = startToolRunner(front.kubeconfigPath);
  return {
    ...tools,
    server,
    front,
    close: async () => {
      await tools.close();
      await front.close();
      await server.close();
    },
  };
}
