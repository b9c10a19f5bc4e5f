/**
 * Reads a child Node process's heap after a FORCED full garbage collection, through the inspector
 * protocol (the child runs with --inspect=127.0.0.1:0). Without a forced GC, heap numbers after a
 * load burst only say when V8 last felt like collecting, not what is still retained.
 */
import WebSocket from 'ws';

/** The inspector URL a child printed on stderr ("Debugger listening on ws://..."). */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1];
}

/** Forces a full GC in the inspected process and returns its heapUsed in bytes. */
export async function heapUsedAfterGc(url: string): Promise<number> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 0;
  const call = (method: string, params: Record<string, unknown> = {}) => new Promise<Record<string, unknown>>((resolve, reject) => {
    nextId += 1;
    const id = nextId;
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: unknown };
      if (message.id !== id) return;
      socket.off('message', onMessage);
      if (message.error !== undefined) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result ?? {});
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, method, params }));
  });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
    return Number((result.result as { value?: number } | undefined)?.value);
  } finally {
    socket.close();
  }
}
