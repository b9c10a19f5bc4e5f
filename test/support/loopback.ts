import type { AddressInfo } from 'node:net';

interface Listenable {
  listen(port: number, host: string, listening: () => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on a free port of 127.0.0.1 and says which. */
export async function listenOnLoopback(server: Listenable): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
