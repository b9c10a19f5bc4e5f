/**
 * Which parser frames the data path's messages, chosen once at process start:
 * BADGATEWAY_EXPERIMENTAL_PARSER=native selects native-parser.ts (an experiment on Node's internal
 * llhttp binding, heads only); anything else, or nothing, the WebAssembly llhttp of llhttp.ts.
 */
import { HttpParser, type MessageParser, type ParserSink, type REQUEST, type RESPONSE } from './llhttp.js';
import { NativeParser } from './native-parser.js';

export const PARSER_VARIANT: 'native' | 'wasm' = process.env.BADGATEWAY_EXPERIMENTAL_PARSER === 'native' ? 'native' : 'wasm';

export function newParser(kind: typeof REQUEST | typeof RESPONSE, sink: ParserSink, maxHeadSize: number): MessageParser {
  return PARSER_VARIANT === 'native' ? new NativeParser(kind, sink, maxHeadSize) : new HttpParser(kind, sink, maxHeadSize);
}
