/**
 * After a 101: the client's and the app's sockets joined as a byte pipe, each side's error or close
 * ending the other. `fromApp` followed the 101 head; `fromClient` followed the request head.
 */
import type { Socket } from 'node:net';

export function spliceTunnel(client: Socket, app: Socket, fromApp: Buffer, fromClient: Buffer | null): void {
  if (fromApp.length > 0) client.write(fromApp);
  if (fromClient !== null && fromClient.length > 0) app.write(fromClient);
  app.pipe(client);
  client.pipe(app);
  app.on('error', () => client.destroy());
  client.on('error', () => app.destroy());
  client.once('close', () => app.destroy());
  app.once('close', () => client.destroy());
}
