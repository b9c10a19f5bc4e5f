/** The demo's overload: many closed-loop clients at once, started and stopped with the app's mode. */
import { Agent, request } from 'undici';

/** Six times the demo app's capacity (sidecar/demo/load-latency.ts). */
const BURST_CLIENTS = 48;
/** A shed client waits this long before it asks again, so the demo does not spin a core on 503s. */
const PAUSE_AFTER_SHED_MS = 20;

export class BurstTraffic {
  private active = false;
  private running: Promise<void>[] = [];
  private readonly agent = new Agent({ connections: BURST_CLIENTS });

  constructor(private readonly url: string, private readonly record: (status: number, reason: string) => void) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.running = Array.from({ length: BURST_CLIENTS }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.active = false;
    await Promise.all(this.running);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.agent.close();
  }

  private async loop(): Promise<void> {
    while (this.active) {
      try {
        const response = await request(this.url, { dispatcher: this.agent });
        await response.body.dump();
        const reason = String(response.headers['x-badgateway-reason'] ?? '');
        this.record(response.statusCode, reason);
        if (response.statusCode >= 500) await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_SHED_MS).unref());
      } catch {
        this.record(0, 'client-error');
        await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_SHED_MS).unref());
      }
    }
  }
}
