/** A tunnel after a 101 belongs to the proxy until it closes: close() ends it instead of hanging. */
import { describe, expect, it } from '@jest/globals';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { startSidecar } from '../../support/sidecar-harness.js';

describe('tunnels and close()', () => {
  it('close() ends an open tunnel and resolves', async () => {
    const appSockets: Socket[] = [];
    const app = createServer((socket) => {
      appSockets.push(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n'));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const sidecar = await startSidecar(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
    const client = connect(sidecar.address.port, '127.0.0.1');
    client.on('error', () => undefined);
    const switched = new Promise<string>((resolve) => client.once('data', (data: Buffer) => resolve(data.toString('latin1'))));
    client.write('GET /tunnel HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
    expect(await switched).toMatch(/^HTTP\/1\.1 101 /);
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const closed = await Promise.race([
      sidecar.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(resolve, 5_000, 'still open after 5 s')),
    ]);
    expect(closed).toBe('closed');
    await clientClosed;
    for (const socket of appSockets) socket.destroy();
    await new Promise((resolve) => app.close(resolve));
  });
});
