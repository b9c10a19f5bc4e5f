/**
 * Types for the files the sidecar imports from inside undici and prom-client instead of their
 * index modules (see http1/llhttp.ts and metrics.ts for why). Each file's `module.exports` is the
 * class or function its package's index re-exports under the same name.
 */
declare module 'undici/lib/llhttp/llhttp-wasm.js' {
  const wasm: Buffer;
  export default wasm;
}
declare module 'undici/lib/llhttp/llhttp_simd-wasm.js' {
  const wasm: Buffer;
  export default wasm;
}
declare module 'prom-client/lib/registry.js' {
  const Registry: typeof import('prom-client').Registry;
  export default Registry;
}
declare module 'prom-client/lib/counter.js' {
  const Counter: typeof import('prom-client').Counter;
  export default Counter;
}
declare module 'prom-client/lib/gauge.js' {
  const Gauge: typeof import('prom-client').Gauge;
  export default Gauge;
}
declare module 'prom-client/lib/histogram.js' {
  const Histogram: typeof import('prom-client').Histogram;
  export default Histogram;
}
declare module 'prom-client/lib/defaultMetrics.js' {
  const collectDefaultMetrics: typeof import('prom-client').collectDefaultMetrics;
  export default collectDefaultMetrics;
}
