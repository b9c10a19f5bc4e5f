/**
 * The demo's gRPC side: one unary method taking and returning an empty message. The only framing
 * is the 5-byte gRPC message prefix of an empty message (not compressed, length 0); HTTP/2 is
 * node:http2's, so the demo needs no gRPC library at run time.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';

export const DEMO_GRPC_METHOD = '/badgateway.demo.Demo/Hello';
const EMPTY_MESSAGE = Buffer.alloc(5);
const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };

/** A grpc-status 0 answer: headers, the empty message, trailers. */
export function answerGrpcOk(stream: ServerHttp2Stream): void {
  stream.resume();
  stream.respond(GRPC_HEADERS, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(EMPTY_MESSAGE);
}

/** A Trailers-Only answer with the app's own failure status. */
export function answerGrpcStatus(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.resume();
  stream.respond({ ...GRPC_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
}

export interface GrpcOutcome {
  grpcStatus: string;
  /** The sidecar's x-badgateway-reason when it answered itself, else ''. */
  reason: string;
}

/** The demo's steady gRPC traffic: calls over one h2c session to the sidecar, reopened when it closes. */
export class GrpcCaller {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly origin: string) {}

  call(): Promise<GrpcOutcome> {
    if (this.session === undefined || this.session.closed || this.session.destroyed) {
      this.session = connect(this.origin);
      this.session.on('error', () => undefined); // each call's stream reports it
    }
    const stream = this.session.request({ ':method': 'POST', ':path': DEMO_GRPC_METHOD, 'content-type': 'application/grpc', te: 'trailers' });
    return new Promise((resolve, reject) => {
      const outcome: GrpcOutcome = { grpcStatus: '', reason: '' };
      stream.on('response', (headers) => {
        outcome.grpcStatus = String(headers['grpc-status'] ?? '');
        outcome.reason = String(headers['x-badgateway-reason'] ?? '');
      });
      stream.on('trailers', (trailers: IncomingHttpHeaders) => { outcome.grpcStatus = String(trailers['grpc-status'] ?? outcome.grpcStatus); });
      stream.on('error', reject);
      stream.on('close', () => resolve(outcome));
      stream.resume();
      stream.end(EMPTY_MESSAGE);
    });
  }

  close(): void {
    this.session?.destroy();
  }
}
